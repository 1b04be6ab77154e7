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
// in the background; each notice carries its own idempotency key, the same
// on every attempt. A workflow waits for idle() before it ends.
//
// The first attempt is a local activity, inside the workflow task that
// caused the notice (the fired clock's, with the read-model write): one
// task per fired clock instead of two and no activity task, which is what
// a midnight burst is made of (issue 9, README "Performance"). Only if
// that attempt fails does the notice go to an activity retried with
// backoff for up to a day. Versioned: runs started before it scheduled the
// activity at once, and replay so.
type notifier struct {
	log      log.Logger
	inflight int
}

// noticeInline is the local attempt's bound: a webhook slower than this
// does not hold the workflow task; the retried activity takes over.
const noticeInline = 5 * time.Second

func (n *notifier) send(ctx workflow.Context, activityName, key string, notice any) {
	n.inflight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { n.inflight-- }()
		if workflow.GetVersion(ctx, "notify-inline", workflow.DefaultVersion, 1) == 1 {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
				ScheduleToCloseTimeout: noticeInline,
				RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 1},
			})
			if workflow.ExecuteLocalActivity(lctx, activityName, notice).Get(ctx, nil) == nil {
				return
			}
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout:    30 * time.Second,
			ScheduleToCloseTimeout: 24 * time.Hour,
			RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute},
		})
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
