// Package activities holds the Temporal activities: everything workflows do
// that touches the world (PostgreSQL, notifications). Activities are
// idempotent, so Temporal's retries never duplicate a row.
package activities

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/activities/webhook"
	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

// Activities carries the dependencies of every activity. Register a value
// with the worker; workflows call its methods by reference.
type Activities struct {
	Pool *pgxpool.Pool
	Q    *db.Queries
	// Metrics records the complaint SLA metrics (metrics.go); nil records none.
	Metrics *Metrics
	// WebhookURL receives Notify's notices as JSON; empty: they are logged.
	WebhookURL string
	// WebhookSecrets sign every POST to WebhookURL, one signature each
	// (README "Webhook signatures"); empty: unsigned, which config allows
	// only with NOTIFY_WEBHOOK_UNSIGNED=true.
	WebhookSecrets []webhook.Secret
	// HTTPClient posts to WebhookURL; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Temporal sends a recalculation's Updates to the complaints
	// (recalculation.go); nil in workers that run no recalculation.
	Temporal client.Client
	// Logger is for notices and diagnostics; nil: slog.Default().
	Logger *slog.Logger
}

// New returns Activities over pool.
func New(pool *pgxpool.Pool) *Activities { return &Activities{Pool: pool, Q: db.New(pool)} }

// CalendarOverrides returns the company calendar overrides (R2) now in force.
// A workflow records them in its history once, at start, and builds its
// calendar from them, so its deadlines stay the ones it was given even when
// an admin changes the calendar later (R2, last bullet).
func (a *Activities) CalendarOverrides(ctx context.Context) ([]calendar.Override, error) {
	return a.Q.CalendarOverrides(ctx)
}

// AssessmentPolicyInForce is the assessment policy in force at at, for a
// cycle the Schedule starts (issue 12: a case takes the version in force
// at its start).
func (a *Activities) AssessmentPolicyInForce(ctx context.Context, at time.Time) (workflows.AssessmentPolicy, error) {
	return policies.InForce[workflows.AssessmentPolicy](ctx, a.Q, workflows.PolicyAssessment, at)
}
