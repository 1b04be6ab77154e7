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
	// patched: the run started with "notify-inline" in force (a later
	// patch implies it), so it need not ask.
	patched bool
}

// noticeInline is the local attempt's bound: a webhook slower than this
// does not hold the workflow task; the retried activity takes over.
const noticeInline = 5 * time.Second

func (n *notifier) send(ctx workflow.Context, activityName, key string, notice any) {
	n.inflight++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { n.inflight-- }()
		if n.patched || workflow.GetVersion(ctx, "notify-inline", workflow.DefaultVersion, 1) == 1 {
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
			return invalid(f.field, "%s", f.problem)
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

// wakeTimer is a workflow's one wake-up timer (issue 13): on a cancellable
// context and with a summary the Web UI shows ("contact: level-1
// escalation"), so an operator reading a history knows what each timer is
// for.
//
// It replaces workflow.AwaitWithTimeout, which in this SDK (v1.50, its
// flag SDKFlagCancelAwaitTimerOnCondition is off) leaves its timer running
// when the condition is met first: every early wake of a main loop left
// the previous timer pending, and each fired later for nothing (a timer
// event and a workflow task, four history events, per command). A wakeTimer
// set for another instant is cancelled (one TimerCanceled event, or none
// when it was started in the same task); one set for the same instant is
// kept, so a command that moves no deadline costs no timer events at all.
// A workflow's run may end with its timer pending: nothing fires after the
// run closes.
type wakeTimer struct {
	at     time.Time
	fired  workflow.Future
	cancel workflow.CancelFunc
}

// sleep blocks until at, or until wake() holds, whichever comes first. now
// is the instant the caller judges what is due by: an at not after it
// returns at once, as does a wake() that already holds.
func (t *wakeTimer) sleep(ctx workflow.Context, now, at time.Time, summary string, wake func() bool) error {
	if !now.Before(at) || wake() {
		// Nothing to wait for. A timer still pending stays: the caller's
		// next sleep keeps or cancels it, and a run that ends now needs no
		// cancel at all.
		return nil
	}
	if t.fired != nil && !t.at.Equal(at) {
		t.stop()
	}
	if t.fired == nil {
		d := at.Sub(workflow.Now(ctx))
		if d <= 0 {
			// now is workflow.Now truncated to the second (wholeSecond) and
			// at lies within that second: wake at the next whole second,
			// when now will have reached at, rather than loop without a timer.
			d = now.Add(time.Second).Sub(workflow.Now(ctx))
		}
		tctx, cancel := workflow.WithCancel(ctx)
		t.at, t.cancel = at, cancel
		t.fired = workflow.NewTimerWithOptions(tctx, d, workflow.TimerOptions{Summary: summary})
	}
	err := workflow.Await(ctx, func() bool { return t.fired.IsReady() || wake() })
	if t.fired.IsReady() {
		t.fired, t.cancel = nil, nil
	}
	return err
}

// stop cancels the pending timer, if any.
func (t *wakeTimer) stop() {
	if t.fired != nil {
		t.cancel()
		t.fired, t.cancel = nil, nil
	}
}

// sleepFor is workflow.Sleep with a timer summary: the same command.
func sleepFor(ctx workflow.Context, d time.Duration, summary string) error {
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}

// wholeSecond is t truncated to the whole second: the instants a workflow
// records (events, met and paused times, decisions, payouts) and the
// deadlines it derives from them are whole seconds, so an answer shows
// "10:00:00+08:00", never "10:00:00.137435444+08:00" (issue 13 item 7).
func wholeSecond(t time.Time) time.Time { return t.Truncate(time.Second) }

// defaultHistoryBudget is how many history events a run of a Complaint or
// a RewardApproval may reach before it continues as new, at its next safe
// point (issue 13 item 2): a full complaint lifecycle is about 60 events,
// a command about 8, a reward's return round about 25, so only a case with
// a hundred or so commands gets there. Well below the server's own
// suggestion (4,096 events, and its limit of 2,000 Updates per run), and
// small enough that a worker that lost its cache replays a run quickly.
// An input's HistoryBudget replaces it (tests).
const defaultHistoryBudget = 1000

// continueAsNewDue reports whether the run should continue as new: the
// server suggests it, or its history has reached budget events (0: the
// default). Deterministic: both come with the workflow task.
func continueAsNewDue(ctx workflow.Context, budget int) bool {
	if budget <= 0 {
		budget = defaultHistoryBudget
	}
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= budget
}

// shownAt is t as the Web UI's summaries and details show it: to the
// second, with its offset, in loc.
func shownAt(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02 15:04:05 -07:00")
}
