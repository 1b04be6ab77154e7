package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/input"
)

// notifier delivers notices (warnings, reminders, escalations, outcomes)
// through an activity in the background, retried with backoff for up to a
// day; each notice carries its own idempotency key, the same on every retry.
// A workflow waits for idle() before it ends.
type notifier struct {
	log      log.Logger
	inflight int
}

func (n *notifier) send(ctx workflow.Context, activityName, key string, notice any) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute},
	})
	n.inflight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { n.inflight-- }()
		if err := workflow.ExecuteActivity(actx, activityName, notice).Get(ctx, nil); err != nil {
			n.log.Error("notice not delivered", "key", key, "error", err)
		}
	})
}

func (n *notifier) idle() bool { return n.inflight == 0 }

// carryOnIfRefused lets a workflow go on when PostgreSQL refused a
// read-model write as bad data (ErrReadModelRefused: retrying cannot help,
// and the activity has counted and logged it): the case must not stop for
// its read model. Any other error is returned.
func carryOnIfRefused(ctx workflow.Context, err error) error {
	if err != nil && IsRejection(err, ErrReadModelRefused) {
		workflow.GetLogger(ctx).Error("read model refused a write; the case goes on",
			"workflow_id", workflow.GetInfo(ctx).WorkflowExecution.ID, "error", err)
		return nil
	}
	return err
}

// update is one Update handler with its validator.
type update struct {
	name          string
	fn, validator any
}

// registerUpdates registers the handlers; a validator rejects before
// anything enters history.
func registerUpdates(ctx workflow.Context, updates ...update) error {
	for _, u := range updates {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.fn, workflow.UpdateHandlerOptions{Validator: u.validator}); err != nil {
			return err
		}
	}
	return nil
}

// fieldProblem is a field's JSON name and what package input found wrong
// with its value ("" when fine).
type fieldProblem struct{ field, problem string }

// rejectBadFields rejects the first bad field as invalid input, its message
// starting with the field's JSON name (the HTTP layer answers 400 on that
// field). Validators check what a client supplied again, so nothing
// PostgreSQL cannot store (NUL, invalid UTF-8) enters a history (R7: every
// change is kept, so it must be storable).
func rejectBadFields(fields ...fieldProblem) error {
	for _, f := range fields {
		if f.problem != "" {
			return invalid("%s %s", f.field, f.problem)
		}
	}
	return nil
}

// optionalID is input.ID for a field that may be empty.
func optionalID(v string) string {
	if v == "" {
		return ""
	}
	return input.ID(v)
}

// requiredText is input.Text for a field that must not be blank.
func requiredText(v string, max int) string {
	if strings.TrimSpace(v) == "" {
		return "is required"
	}
	return input.Text(v, max)
}
