package server

import (
	"context"
	"time"

	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

// assessmentPolicy is the assessment policy in force now, for a cycle HR
// starts (a scheduled one reads it in its starter workflow), with the
// demo's publication window when one is configured.
func (s *Server) assessmentPolicy(ctx context.Context) (workflows.AssessmentPolicy, error) {
	p, err := policies.InForce[workflows.AssessmentPolicy](ctx, s.q, workflows.PolicyAssessment, time.Now())
	if s.publicationWindow > 0 {
		p.PublicationWindow = workflows.Duration(s.publicationWindow)
	}
	return p, err
}
