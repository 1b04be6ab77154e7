package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

// The versioned policies (issue 12 item 3; R1: the admin keeps them). A
// new version is a new row dated from now or later, never an edit and never
// back-dated: a case takes the version in force at its start and keeps it
// (R2), so a version may not claim an instant at which cases already
// started under another. Running cases change only by a recorded
// recalculation (recalculations.go).

// maxPolicyLead bounds how far ahead a version may be scheduled.
const maxPolicyLead = 366 * 24 * time.Hour

// policyRecord is one version as the API shows it.
type policyRecord struct {
	Kind          string          `json:"kind"`
	Version       int             `json:"version"`
	EffectiveFrom time.Time       `json:"effective_from"`
	InForce       bool            `json:"in_force"`
	Reason        string          `json:"reason"`
	CreatedBy     string          `json:"created_by"`
	CreatedAt     time.Time       `json:"created_at"`
	Policy        json.RawMessage `json:"policy"`
}

// GET /api/v1/policies[?kind=]: every version, newest first per kind.
// Anyone signed in may read the rules they work by.
func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	var kind *string
	if k := r.URL.Query().Get("kind"); k != "" {
		if _, err := policyKind(k); err != nil {
			return err
		}
		kind = &k
	}
	rows, err := s.q.ListPolicies(r.Context(), kind)
	if err != nil {
		return err
	}
	out := struct {
		Items []policyRecord `json:"items"`
	}{Items: []policyRecord{}}
	for _, p := range rows {
		out.Items = append(out.Items, policyRecord{Kind: p.Kind, Version: int(p.Version), EffectiveFrom: shownTime(p.EffectiveFrom, s.loc),
			InForce: p.InForce, Reason: p.Reason, CreatedBy: p.CreatedBy, CreatedAt: shownTime(p.CreatedAt, s.loc), Policy: p.Body})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func policyKind(k string) (workflows.PolicyKind, error) {
	for _, kind := range workflows.PolicyKinds {
		if string(kind) == k {
			return kind, nil
		}
	}
	return "", &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such policy kind (complaint, reward or assessment)"}
}

// policyRequest is the body of a new version of one kind of policy P.
type policyRequest struct {
	EffectiveFrom *time.Time      `json:"effective_from"` // default: now
	Reason        string          `json:"reason"`
	Policy        json.RawMessage `json:"policy"` // the kind's policy, decoded on its own (nested field names)
}

// nested names a nested object's field problems by their path
// ("policy.contact_within"; "policy" for the object as a whole).
func nested(prefix string, err error) error {
	var bad *apiError
	if !errors.As(err, &bad) || bad.Status != http.StatusBadRequest {
		return err
	}
	fields := map[string]string{}
	for k, v := range bad.Fields {
		if k == "body" {
			fields[prefix] = v
		} else {
			fields[prefix+"."+k] = v
		}
	}
	return badRequest(fields)
}

// POST /api/v1/policies/{kind} (admin): a new version, 201.
func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	kind, err := policyKind(chi.URLParam(r, "kind"))
	if err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var rec policyRecord
	switch kind {
	case workflows.PolicyComplaint:
		rec, err = newPolicyVersion[workflows.SLAPolicy](s, r, kind, body)
	case workflows.PolicyReward:
		rec, err = newPolicyVersion[workflows.RewardPolicy](s, r, kind, body)
	default:
		rec, err = newPolicyVersion[workflows.AssessmentPolicy](s, r, kind, body)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

// validator is what every policy type answers.
type validator interface{ Validate() error }

func newPolicyVersion[P policies.Policy](s *Server, r *http.Request, kind workflows.PolicyKind, body []byte) (policyRecord, error) {
	var req policyRequest
	if err := decodeBody(body, &req); err != nil {
		return policyRecord{}, err
	}
	var policy *P
	if len(req.Policy) > 0 && string(req.Policy) != "null" {
		policy = new(P)
		if err := decodeBody(req.Policy, policy); err != nil {
			return policyRecord{}, nested("policy", err)
		}
	}
	now := time.Now()
	errs := fieldErrors{}
	req.Reason = textField(errs, "reason", req.Reason, maxReasonLen)
	from := now
	if req.EffectiveFrom != nil {
		from = *req.EffectiveFrom
		switch {
		case from.Before(now.Add(-time.Minute)): // a minute's grace for the client's clock
			errs.add("effective_from", "must not be in the past: cases started since then keep the version they took (R2)")
		case from.After(now.Add(maxPolicyLead)):
			errs.add("effective_from", "must be within a year")
		}
		if from.Before(now) {
			from = now
		}
	}
	var version int
	switch {
	case policy == nil:
		errs.add("policy", "is required")
	default:
		if err := any(*policy).(validator).Validate(); err != nil {
			errs.add("policy", err.Error())
		}
	}
	if err := errs.err(); err != nil {
		return policyRecord{}, err
	}
	from = from.Truncate(time.Second)
	var rec policyRecord
	err := s.adminTx(r, req.Reason, func(q *db.Queries, a auditor) error {
		latest, err := q.LatestPolicyForUpdate(r.Context(), string(kind))
		if err != nil {
			return err
		}
		if !from.After(latest.EffectiveFrom) {
			return conflict(fmt.Sprintf("version %d is already scheduled from %s; a new version must start after it",
				latest.Version, latest.EffectiveFrom.In(s.loc).Format(time.RFC3339)))
		}
		version = int(latest.Version) + 1
		stored, err := withVersion(*policy, version)
		if err != nil {
			return err
		}
		if err := q.InsertPolicy(r.Context(), db.InsertPolicyParams{Kind: string(kind), Version: int32(version),
			EffectiveFrom: from, Body: stored, Reason: req.Reason, CreatedBy: principal(r).UserID}); err != nil {
			return err
		}
		rec = policyRecord{Kind: string(kind), Version: version, EffectiveFrom: shownTime(from, s.loc), InForce: !from.After(now),
			Reason: req.Reason, CreatedBy: principal(r).UserID, CreatedAt: shownTime(now, s.loc), Policy: stored}
		return a.change("policy", string(kind), "version", ptr(strconv.Itoa(int(latest.Version))), ptr(strconv.Itoa(version)))
	})
	return rec, err
}

// withVersion is p's JSON with its version set: the stored body carries
// it, so a case's input says which version it runs by.
func withVersion[P policies.Policy](p P, version int) ([]byte, error) {
	switch v := any(&p).(type) {
	case *workflows.SLAPolicy:
		v.Version = version
	case *workflows.RewardPolicy:
		v.Version = version
	case *workflows.AssessmentPolicy:
		v.Version = version
	}
	return json.Marshal(p)
}

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
