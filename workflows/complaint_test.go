package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// recorder stands in for the read-model and notification activities (mocks
// belong only in workflow unit tests) and keeps what they were asked to do.
type recorder struct {
	mu            sync.Mutex
	notifications []Notification
	escalations   []Escalation
	deductions    []DeductionProposal
	surveys       []SurveyRecord
	// inlineDown fails every local (inline) notification attempt, as a
	// webhook that is down would.
	inlineDown     bool
	inlineAttempts int
}

func (r *recorder) sync(_ context.Context, s ComplaintSync) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.escalations = append(r.escalations, s.Escalations...)
	if s.Deduction != nil {
		r.deductions = append(r.deductions, *s.Deduction)
	}
	if s.Survey != nil {
		r.surveys = append(r.surveys, *s.Survey)
	}
	return nil
}

func (r *recorder) notify(ctx context.Context, n Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if activity.GetInfo(ctx).IsLocalActivity {
		r.inlineAttempts++
		if r.inlineDown {
			return errors.New("webhook down")
		}
	}
	r.notifications = append(r.notifications, n)
	return nil
}

func (r *recorder) count(kind string, clock ClockName, level int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.notifications {
		if x.Kind == kind && x.Clock == clock && x.Level == level {
			n++
		}
	}
	return n
}

type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	rec *recorder
	in  ComplaintInput
	// pending counts updates whose check has not run yet.
	pending int
}

// newHarness starts a complaint received at `received` (Asia/Shanghai).
func newHarness(t *testing.T, received time.Time) *harness {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{})
	rec := &recorder{}
	env.RegisterWorkflowWithOptions(Complaint, workflow.RegisterOptions{Name: ComplaintWorkflowType})
	env.RegisterActivityWithOptions(rec.sync, activity.RegisterOptions{Name: ActivitySyncComplaint})
	env.RegisterActivityWithOptions(rec.notify, activity.RegisterOptions{Name: ActivityNotify})
	env.SetStartTime(received)
	return &harness{t: t, env: env, rec: rec, in: ComplaintInput{
		ComplaintNo: "C-1", AssigneeID: "agent1", TeamID: "team-a", ManagerID: "manager1", HeadID: "head1",
		ReceivedAt: received, CreatedBy: "agent1", Policy: DefaultSLAPolicy(), Location: "Asia/Shanghai",
	}}
}

// at schedules fn at offset after the start.
func (h *harness) at(offset time.Duration, fn func()) {
	h.env.RegisterDelayedCallback(fn, offset)
}

// send schedules an update at offset after the start; check sees its
// result or rejection. Updates in the test environment are asynchronous, so
// every assertion on them lives in check; run() fails if a check never ran.
func (h *harness) send(offset time.Duration, name string, arg any, check func(ComplaintState, error)) {
	h.pending++
	h.at(offset, func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { h.pending--; check(ComplaintState{}, err) },
			OnComplete: func(v any, err error) {
				h.pending--
				st, _ := v.(ComplaintState)
				check(st, err)
			},
		}, arg)
	})
}

// ok sends an update that must succeed.
func (h *harness) ok(offset time.Duration, name string, arg any, checks ...func(ComplaintState)) {
	h.send(offset, name, arg, func(st ComplaintState, err error) {
		if err != nil {
			h.t.Errorf("%s at +%s: %v", name, offset, err)
			return
		}
		for _, c := range checks {
			c(st)
		}
	})
}

// rejected sends an update that its validator must reject with typ.
func (h *harness) rejected(offset time.Duration, what, name string, arg any, typ string) {
	h.send(offset, name, arg, func(_ ComplaintState, err error) {
		if !IsRejection(err, typ) {
			h.t.Errorf("%s: got %v, want a %s rejection", what, err, typ)
		}
	})
}

func (h *harness) query() ComplaintState {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryState)
	if err != nil {
		h.t.Fatal(err)
	}
	var st ComplaintState
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) run() {
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatal(err)
	}
	h.checked()
}

func (h *harness) checked() {
	h.t.Helper()
	if h.pending != 0 {
		h.t.Fatalf("%d update checks never ran", h.pending)
	}
}

func clockOf(st ComplaintState, name ClockName) Clock {
	for _, c := range st.Clocks {
		if c.Name == name {
			return c
		}
	}
	return Clock{}
}

// Monday 2026-03-02 10:00 +08:00: a week with no holidays.
var monday = time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai)

const sec = time.Second

// cancelAt ends an open-ended test at offset.
func (h *harness) cancelAt(offset time.Duration) { h.at(offset, h.env.CancelWorkflow) }

// resolveAt contacts, plans and resolves in three updates from offset on.
func (h *harness) resolveAt(offset time.Duration) {
	h.ok(offset, UpdateContact, ContactInput{Actor: "agent1", Note: "called"})
	h.ok(offset+sec, UpdatePlan, PlanInput{Actor: "agent1", Plan: "replace part"})
	h.ok(offset+2*sec, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "replaced"})
}

// R3: all three clocks met, then a survey; the complaint closes after the
// 30-day reopen window with no warning or escalation.
func TestR3_AllClocksMet(t *testing.T) {
	h := newHarness(t, monday)
	h.ok(2*time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "called"}, func(st ComplaintState) {
		if c := clockOf(st, ClockContact); c.MetAt == nil || c.Breached || !c.MetAt.Equal(monday.Add(2*time.Hour)) {
			t.Errorf("contact clock = %+v", c)
		}
	})
	h.ok(20*time.Hour, UpdatePlan, PlanInput{Actor: "agent1", Plan: "replace part"})
	h.ok(50*time.Hour, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "replaced"}, func(st ComplaintState) {
		if st.Status != StatusResolved || !st.SurveyPending {
			t.Errorf("after resolve: %+v", st)
		}
	})
	h.ok(51*time.Hour, UpdateSurvey, SurveyInput{Actor: "agent1", Ratings: Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}})
	h.run()
	var st ComplaintState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != StatusClosed {
		t.Fatalf("status %s, want closed", st.Status)
	}
	if want := monday.Add(50*time.Hour + 30*24*time.Hour); !h.env.Now().Equal(want) {
		t.Errorf("closed at %s, want 30 days after the resolution, %s", h.env.Now(), want)
	}
	if len(h.rec.escalations) != 0 || len(h.rec.deductions) != 0 || len(h.rec.notifications) != 0 {
		t.Errorf("escalations %v deductions %v notifications %v", h.rec.escalations, h.rec.deductions, h.rec.notifications)
	}
	if len(h.rec.surveys) != 1 || h.rec.surveys[0].Score != 5 {
		t.Errorf("surveys = %+v", h.rec.surveys)
	}
	for _, c := range st.Clocks {
		if c.Breached || c.MetAt == nil {
			t.Errorf("clock %+v", c)
		}
	}
	// R3 with R2: 7 working days from Monday 10:00 are Tue..Wed -> Thursday 00:00.
	if d := clockOf(st, ClockResolution).DueAt; !d.Equal(time.Date(2026, 3, 12, 0, 0, 0, 0, shanghai)) {
		t.Errorf("resolution due %s", d)
	}
}

// R3: the contact clock missed: a warning at 75% (18 h), level 1 at 24 h,
// level 2 one working day later, each exactly once, and one deduction.
func TestR3_ContactMissedEscalatesTwiceExactlyOnce(t *testing.T) {
	h := newHarness(t, monday)
	probe := func(offset time.Duration, what string, ok func() bool) {
		h.at(offset, func() {
			if !ok() {
				t.Errorf("+%s: %s", offset, what)
			}
		})
	}
	probe(18*time.Hour-sec, "warned before 75%", func() bool { return h.rec.count("warning", ClockContact, 0) == 0 })
	probe(18*time.Hour+sec, "one warning at 75%", func() bool { return h.rec.count("warning", ClockContact, 0) == 1 })
	probe(24*time.Hour-sec, "escalated before the miss", func() bool { return h.rec.count("escalation", ClockContact, 1) == 0 })
	probe(24*time.Hour+sec, "level 1 at the miss", func() bool { return h.rec.count("escalation", ClockContact, 1) == 1 })
	h.at(24*time.Hour+2*sec, func() {
		st := h.query()
		if c := clockOf(st, ClockContact); !c.Breached || c.RemainingSeconds >= 0 {
			t.Errorf("contact clock after miss = %+v", c)
		}
	})
	// Due Tue 10:00; level 2 at the end of the next working day (Wed) = Thu 00:00.
	l2 := time.Date(2026, 3, 5, 0, 0, 0, 0, shanghai).Sub(monday)
	probe(l2-sec, "level 2 too early", func() bool { return h.rec.count("escalation", ClockContact, 2) == 0 })
	probe(l2+sec, "level 2 one working day after the miss", func() bool { return h.rec.count("escalation", ClockContact, 2) == 1 })
	h.resolveAt(l2 + 10*sec)
	h.run()
	if h.rec.count("escalation", ClockContact, 1) != 1 || h.rec.count("escalation", ClockContact, 2) != 1 {
		t.Errorf("contact escalations: %+v", h.rec.notifications)
	}
	// The plan clock (due Wed 10:00) was missed too: its own level 1, but no second deduction.
	if h.rec.count("escalation", ClockPlan, 1) != 1 {
		t.Error("plan miss not escalated")
	}
	if len(h.rec.deductions) != 1 || h.rec.deductions[0].Points != 20 || h.rec.deductions[0].EmployeeID != "agent1" ||
		!h.rec.deductions[0].OccurredAt.Equal(monday.Add(24*time.Hour)) {
		t.Errorf("deductions = %+v, want one of 20 points at the first miss", h.rec.deductions)
	}
	if len(h.rec.escalations) != 3 {
		t.Errorf("escalation rows = %d, want 3 (contact 1 and 2, plan 1)", len(h.rec.escalations))
	}
}

// R3: a notice is first tried inline (a local activity in the fired clock's
// workflow task); when that fails, the retried activity delivers it, once.
func TestR3_NoticeFallsBackToRetriedActivity(t *testing.T) {
	for _, down := range []bool{false, true} {
		h := newHarness(t, monday)
		h.rec.inlineDown = down
		h.resolveAt(24*time.Hour + 10*sec)
		h.run()
		if n := h.rec.count("escalation", ClockContact, 1); n != 1 {
			t.Errorf("inline down %v: contact level-1 notices delivered %d times, want 1", down, n)
		}
		if h.rec.inlineAttempts == 0 {
			t.Errorf("inline down %v: no inline attempt", down)
		}
	}
}

// R3: a command that reaches the workflow with its start (or with the timer
// of a deadline it missed) runs after the clock actions already due: a
// contact 30 days late still escalates the contact clock at both levels and
// is the first miss that proposes the deduction.
func TestR3_LateCommandAfterTheClocksItMissed(t *testing.T) {
	h := newHarness(t, monday)
	h.in.ReceivedAt = monday.Add(-30 * 24 * time.Hour)
	h.ok(0, UpdateContact, ContactInput{Actor: "agent1", Note: "called at last"})
	h.cancelAt(time.Minute)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
	if h.rec.count("escalation", ClockContact, 1) != 1 || h.rec.count("escalation", ClockContact, 2) != 1 {
		t.Errorf("contact escalations = %+v, want level 1 and 2 once each", h.rec.escalations)
	}
	if len(h.rec.deductions) != 1 || !h.rec.deductions[0].OccurredAt.Equal(h.in.ReceivedAt.Add(24*time.Hour)) {
		t.Errorf("deductions = %+v, want one at the contact miss", h.rec.deductions)
	}
}

// R3: a complaint received 30 hours ago breaches its contact clock at once.
func TestR3_BackdatedReceiptBreachesAtOnce(t *testing.T) {
	h := newHarness(t, monday)
	h.in.ReceivedAt = monday.Add(-30 * time.Hour)
	h.at(time.Minute, func() {
		st := h.query()
		if !clockOf(st, ClockContact).Breached || clockOf(st, ClockPlan).Breached {
			t.Errorf("clocks = %+v", st.Clocks)
		}
		if h.rec.count("escalation", ClockContact, 1) != 1 || h.rec.count("warning", ClockContact, 0) != 0 {
			t.Errorf("want one level-1 escalation and no stale warning: %+v", h.rec.notifications)
		}
		if len(h.rec.deductions) != 1 {
			t.Errorf("deductions = %d", len(h.rec.deductions))
		}
	})
	h.cancelAt(2 * time.Minute)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// R3: pause stops only the resolution clock; resume moves its deadline by
// exactly the paused time, and nothing escalates meanwhile.
func TestR3_PauseAndResumeArithmetic(t *testing.T) {
	h := newHarness(t, monday)
	due := time.Date(2026, 3, 12, 0, 0, 0, 0, shanghai)
	paused := 8*24*time.Hour + 30*time.Minute // past the original deadline
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "n"})
	h.ok(time.Hour+sec, UpdatePlan, PlanInput{Actor: "agent1", Plan: "p"})
	h.ok(time.Hour+2*sec, UpdatePause, PauseInput{Actor: "agent1", Reason: "waiting for the customer's photos"}, func(st ComplaintState) {
		if c := clockOf(st, ClockResolution); !c.Paused || c.PausedAt == nil {
			t.Errorf("not paused: %+v", c)
		}
	})
	h.rejected(time.Hour+3*sec, "second pause", UpdatePause, PauseInput{Actor: "agent1", Reason: "again"}, ErrConflict)
	h.ok(time.Hour+2*sec+paused, UpdateResume, ResumeInput{Actor: "agent1"}, func(st ComplaintState) {
		if c := clockOf(st, ClockResolution); !c.DueAt.Equal(due.Add(paused)) || c.Paused {
			t.Errorf("after resume due %s, want %s", c.DueAt, due.Add(paused))
		}
	})
	h.at(time.Hour+3*sec+paused, func() {
		if len(h.rec.notifications) != 0 {
			t.Errorf("a paused clock warned or escalated: %+v", h.rec.notifications)
		}
	})
	h.ok(time.Hour+4*sec+paused, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "r"})
	h.run()
}

// R3 with R2: a complaint received the day before National Day 2026 gets 7
// working days that skip Oct 1-7 and count Saturday Oct 10 (调休):
// Oct 8, 9, 10, 12, 13, 14, 15 -> Fri Oct 16 00:00.
func TestR3_ResolutionAcrossNationalDay2026(t *testing.T) {
	received := time.Date(2026, 9, 30, 15, 0, 0, 0, shanghai)
	h := newHarness(t, received)
	want := time.Date(2026, 10, 16, 0, 0, 0, 0, shanghai)
	h.at(time.Minute, func() {
		if d := clockOf(h.query(), ClockResolution).DueAt; !d.Equal(want) {
			t.Errorf("resolution due %s, want %s", d, want)
		}
	})
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "n"})
	h.ok(time.Hour+sec, UpdatePlan, PlanInput{Actor: "agent1", Plan: "p"})
	h.at(want.Sub(received)-sec, func() {
		if h.rec.count("escalation", ClockResolution, 1) != 0 {
			t.Error("escalated before the deadline")
		}
	})
	h.ok(want.Sub(received)+sec, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "r"})
	h.run()
	if h.rec.count("escalation", ClockResolution, 1) != 1 || h.rec.count("escalation", ClockResolution, 2) != 0 {
		t.Errorf("want exactly one resolution escalation: %+v", h.rec.notifications)
	}
}

// R2: a company override carried in the input (a removed working day) moves
// the deadline; the complaint keeps the calendar it started with.
func TestR2_ComplaintKeepsItsCalendar(t *testing.T) {
	h := newHarness(t, monday)
	h.in.Calendar = []calendar.Override{{Date: calendar.Date{Year: 2026, Month: 3, Day: 5}, Working: false, Note: "company day off"}}
	h.at(time.Minute, func() {
		if d := clockOf(h.query(), ClockResolution).DueAt; !d.Equal(time.Date(2026, 3, 13, 0, 0, 0, 0, shanghai)) {
			t.Errorf("resolution due %s, want Fri 13 00:00", d)
		}
	})
	h.cancelAt(2 * time.Minute)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
}

// R3: extend moves a deadline forward only, with a reason; the miss follows
// the new deadline.
func TestR3_Extend(t *testing.T) {
	h := newHarness(t, monday)
	newDue := monday.Add(72 * time.Hour)
	h.rejected(time.Hour, "backwards extend", UpdateExtend, ExtendInput{Actor: "officer1", Clock: ClockContact, DueAt: monday.Add(time.Hour), Reason: "x"}, ErrConflict)
	h.rejected(time.Hour+sec, "extend without reason", UpdateExtend, ExtendInput{Actor: "officer1", Clock: ClockContact, DueAt: newDue}, ErrInvalidInput)
	h.ok(time.Hour+2*sec, UpdateExtend, ExtendInput{Actor: "officer1", Clock: ClockContact, DueAt: newDue, Reason: "customer abroad"}, func(st ComplaintState) {
		if !clockOf(st, ClockContact).DueAt.Equal(newDue) {
			t.Error("due not moved")
		}
	})
	h.at(25*time.Hour, func() {
		if h.rec.count("escalation", ClockContact, 1) != 0 {
			t.Error("escalated at the old deadline")
		}
	})
	h.at(72*time.Hour+sec, func() {
		if h.rec.count("escalation", ClockContact, 1) != 1 {
			t.Error("not escalated at the new deadline")
		}
	})
	h.cancelAt(73 * time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// R3: reassignment keeps every clock running; the deduction of a later miss
// is against the assignee at that moment.
func TestR3_Reassign(t *testing.T) {
	h := newHarness(t, monday)
	h.ok(time.Hour, UpdateReassign, ReassignInput{Actor: "manager1", AssigneeID: "agent2", TeamID: "team-b", HeadID: "head1", Reason: "skills"}, func(st ComplaintState) {
		if st.AssigneeID != "agent2" || st.TeamID != "team-b" || !clockOf(st, ClockContact).DueAt.Equal(monday.Add(24*time.Hour)) {
			t.Errorf("after reassign %+v", st)
		}
	})
	h.rejected(time.Hour+sec, "reassign to the assignee", UpdateReassign, ReassignInput{Actor: "manager1", AssigneeID: "agent2", Reason: "x"}, ErrConflict)
	h.at(25*time.Hour, func() {
		if len(h.rec.deductions) != 1 || h.rec.deductions[0].EmployeeID != "agent2" {
			t.Errorf("deduction not against the assignee at the miss: %+v", h.rec.deductions)
		}
	})
	h.cancelAt(26 * time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// R3: reopen within 30 days marks the repair as not a first-time fix and
// restarts the resolution clock; each resolution gets its own survey.
func TestR3_Reopen(t *testing.T) {
	h := newHarness(t, monday)
	h.resolveAt(time.Hour)
	h.ok(time.Hour+3*sec, UpdateSurvey, SurveyInput{Actor: "agent1", Ratings: Ratings{Attitude: 4, Speed: 4, Quality: 4, Parts: 4, Cost: 4}})
	reopen := 10 * 24 * time.Hour
	h.ok(reopen, UpdateReopen, ReopenInput{Actor: "agent1", Reason: "leaks again"}, func(st ComplaintState) {
		if st.Status != StatusReopened || st.FirstTimeFix {
			t.Errorf("after reopen %+v", st)
		}
		if c := clockOf(st, ClockResolution); c.MetAt != nil || !c.DueAt.After(monday.Add(reopen)) {
			t.Errorf("resolution clock not restarted: %+v", c)
		}
	})
	h.ok(reopen+sec, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "r2"})
	h.ok(reopen+2*sec, UpdateSurvey, SurveyInput{Actor: "agent1", Ratings: Ratings{Attitude: 3, Speed: 3, Quality: 3, Parts: 3, Cost: 3}})
	h.run()
	if len(h.rec.surveys) != 2 || h.rec.surveys[1].Resolution != 2 {
		t.Errorf("surveys %+v", h.rec.surveys)
	}
	if !h.env.Now().Equal(monday.Add(reopen + sec + 30*24*time.Hour)) {
		t.Errorf("closed at %s, want 30 days after the second resolution", h.env.Now())
	}
}

// R3 and api.md: every command the state forbids, and bad input, is rejected
// by its validator, so nothing enters history.
func TestR3_ForbiddenCommandsRejected(t *testing.T) {
	h := newHarness(t, monday)
	at := time.Hour
	next := func() time.Duration { at += sec; return at }
	for _, tc := range []struct {
		name, update string
		arg          any
		typ          string
	}{
		{"plan before contact", UpdatePlan, PlanInput{Actor: "a", Plan: "p"}, ErrConflict},
		{"resolve before plan", UpdateResolve, ResolveInput{Actor: "a", Resolution: "r"}, ErrConflict},
		{"resume unpaused", UpdateResume, ResumeInput{Actor: "a"}, ErrConflict},
		{"reopen open", UpdateReopen, ReopenInput{Actor: "a", Reason: "r"}, ErrConflict},
		{"survey unresolved", UpdateSurvey, SurveyInput{Actor: "a", Ratings: Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}}, ErrConflict},
		{"contact without note", UpdateContact, ContactInput{Actor: "a"}, ErrInvalidInput},
		{"contact in the future", UpdateContact, ContactInput{Actor: "a", Note: "n", ContactedAt: ptr(monday.Add(48 * time.Hour))}, ErrInvalidInput},
		{"contact before receipt", UpdateContact, ContactInput{Actor: "a", Note: "n", ContactedAt: ptr(monday.Add(-time.Hour))}, ErrInvalidInput},
		{"pause without reason", UpdatePause, PauseInput{Actor: "a"}, ErrInvalidInput},
		{"extend unknown clock", UpdateExtend, ExtendInput{Actor: "a", Clock: "lunch", DueAt: monday.Add(100 * time.Hour), Reason: "r"}, ErrInvalidInput},
	} {
		h.rejected(next(), tc.name, tc.update, tc.arg, tc.typ)
	}
	h.ok(next(), UpdateContact, ContactInput{Actor: "agent1", Note: "n"})
	h.rejected(next(), "second contact", UpdateContact, ContactInput{Actor: "agent1", Note: "n"}, ErrConflict)
	h.ok(next(), UpdatePlan, PlanInput{Actor: "agent1", Plan: "p"})
	h.rejected(next(), "second plan", UpdatePlan, PlanInput{Actor: "agent1", Plan: "p"}, ErrConflict)
	h.ok(next(), UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "r"})
	for _, tc := range []struct {
		name, update string
		arg          any
	}{
		{"resolve resolved", UpdateResolve, ResolveInput{Actor: "a", Resolution: "r"}},
		{"pause resolved", UpdatePause, PauseInput{Actor: "a", Reason: "r"}},
		{"extend resolved", UpdateExtend, ExtendInput{Actor: "a", Clock: ClockPlan, DueAt: monday.Add(100 * time.Hour), Reason: "r"}},
		{"reassign resolved", UpdateReassign, ReassignInput{Actor: "a", AssigneeID: "agent2", Reason: "r"}},
	} {
		h.rejected(next(), tc.name, tc.update, tc.arg, ErrConflict)
	}
	h.rejected(next(), "rating 6", UpdateSurvey, SurveyInput{Actor: "a", Ratings: Ratings{Attitude: 5, Speed: 6, Quality: 5, Parts: 5, Cost: 5}}, ErrInvalidInput)
	h.ok(next(), UpdateSurvey, SurveyInput{Actor: "agent1", Ratings: Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}})
	h.rejected(next(), "second survey", UpdateSurvey, SurveyInput{Actor: "a", Ratings: Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}}, ErrConflict)
	h.run()
	var st ComplaintState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	// Only accepted commands are in the trail: received, contacted, planned, resolved, surveyed, closed.
	var types []string
	for _, e := range st.Events {
		types = append(types, e.Type)
	}
	if got := fmt.Sprint(types); got != "[received contacted planned resolved surveyed closed]" {
		t.Errorf("events = %s", got)
	}
}

func ptr[T any](v T) *T { return &v }

// R3: a complaint whose resolution clock escalated (level 1), resolved,
// then reopened: no stale level 2 at the reopen; level 2 follows the new
// deadline; the second warning has its own notification key.
func TestR3_ReopenAfterEscalation(t *testing.T) {
	h := newHarness(t, monday)
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "n"})
	h.ok(time.Hour+sec, UpdatePlan, PlanInput{Actor: "agent1", Plan: "p"})
	missed := time.Date(2026, 3, 12, 0, 0, 0, 0, shanghai).Sub(monday) // the resolution deadline
	h.ok(missed+time.Hour, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "r"})
	reopen := time.Date(2026, 3, 16, 10, 0, 0, 0, shanghai).Sub(monday) // Mon 16 March
	h.ok(reopen, UpdateReopen, ReopenInput{Actor: "agent1", Reason: "again"})
	h.at(reopen+time.Minute, func() {
		if n := h.rec.count("escalation", ClockResolution, 2); n != 0 {
			t.Errorf("a stale level 2 fired at the reopen (%d)", n)
		}
	})
	// New deadline: 7 working days from Mon 16 (Tue 17 .. Wed 25) -> Thu 26 00:00;
	// level 2 one working day later (Thu 26) -> Fri 27 00:00.
	l2 := time.Date(2026, 3, 27, 0, 0, 0, 0, shanghai).Sub(monday)
	h.at(l2-sec, func() {
		if h.rec.count("escalation", ClockResolution, 2) != 0 {
			t.Error("level 2 before the new deadline's day passed")
		}
	})
	h.at(l2+sec, func() {
		if h.rec.count("escalation", ClockResolution, 2) != 1 || h.rec.count("escalation", ClockResolution, 1) != 1 {
			t.Errorf("escalations after the reopened miss: %+v", h.rec.notifications)
		}
	})
	h.ok(l2+time.Hour, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "r2"})
	h.run()
	keys := map[string]bool{}
	for _, n := range h.rec.notifications {
		if keys[n.Key] {
			t.Errorf("notification key %s used twice", n.Key)
		}
		keys[n.Key] = true
	}
}

// R3: the create's answer (UpdateCreated, sent with the start) comes once
// the first task's changes are in the read model: for a receipt 30 hours
// back, the contact clock has already escalated and its escalation and
// deduction are written when the answer arrives.
func TestR3_CreatedAnswersAfterTheReadModelIsWritten(t *testing.T) {
	received := monday
	h := newHarness(t, received)
	h.env.SetStartTime(received.Add(30 * time.Hour))
	h.ok(0, UpdateCreated, nil, func(st ComplaintState) {
		if len(st.Escalations) != 1 || st.Escalations[0].Clock != ClockContact || !clockOf(st, ClockContact).Breached {
			t.Errorf("created: escalations %+v, contact %+v", st.Escalations, clockOf(st, ClockContact))
		}
		h.rec.mu.Lock()
		defer h.rec.mu.Unlock()
		if len(h.rec.escalations) != 1 || len(h.rec.deductions) != 1 {
			t.Errorf("answered before the read model had the escalation (%d) and deduction (%d)", len(h.rec.escalations), len(h.rec.deductions))
		}
	})
	h.ok(time.Minute, UpdateCreated, nil, func(st ComplaintState) {
		if len(st.Events) == 0 || st.Status != StatusOpen {
			t.Errorf("a second created (a retried create): %+v", st)
		}
	})
	h.cancelAt(time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}
