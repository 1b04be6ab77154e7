package workflows

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	sdkpb "go.temporal.io/api/sdk/v1"
)

// R3, issue 13 item 5: a command that wakes the main loop early cancels
// the timer it no longer needs (workflow.AwaitWithTimeout left it running:
// each fired later for nothing, a workflow task per command). A complaint
// worked within hours and closed 30 days later fires one timer, the
// close; every other one is cancelled when a command moves the next action.
func TestR3_EarlyWakeCancelsTheTimer(t *testing.T) {
	h := newHarness(t, monday)
	var scheduled, fired, cancelled int
	h.env.SetOnTimerScheduledListener(func(string, time.Duration) { scheduled++ })
	h.env.SetOnTimerFiredListener(func(string) { fired++ })
	h.env.SetOnTimerCanceledListener(func(string) { cancelled++ })
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "called"})
	h.ok(2*time.Hour, UpdatePlan, PlanInput{Actor: "agent1", Plan: "swap"})
	h.ok(3*time.Hour, UpdatePause, PauseInput{Actor: "agent1", Reason: "waiting for photos"})
	h.ok(4*time.Hour, UpdateResume, ResumeInput{Actor: "agent1"})
	h.ok(5*time.Hour, UpdateReassign, ReassignInput{Actor: "officer1", AssigneeID: "agent2", TeamID: "team-a", ManagerID: "manager1", HeadID: "head1", Reason: "leave"})
	h.ok(6*time.Hour, UpdateResolve, ResolveInput{Actor: "agent2", Resolution: "swapped"})
	h.ok(7*time.Hour, UpdateSurvey, SurveyInput{Actor: "agent2", Ratings: Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}})
	h.run()
	// Timers: the contact warning (cancelled by contact), the plan warning
	// (by plan), the resolution warning (by pause), again after resume
	// (kept by the reassignment, which moves no deadline; cancelled by
	// resolve), the close (kept by the survey; fires).
	if fired != 1 || cancelled != 4 || scheduled != 5 {
		t.Errorf("timers: %d scheduled, %d fired, %d cancelled; want 5, 1 (the close), 4", scheduled, fired, cancelled)
	}
}

// metadata is the workflow's current details, as the Web UI reads them.
func (h *harness) details() string {
	h.t.Helper()
	v, err := h.env.QueryWorkflow("__temporal_workflow_metadata")
	if err != nil {
		h.t.Fatal(err)
	}
	var md sdkpb.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		h.t.Fatal(err)
	}
	return md.GetCurrentDetails()
}

// R3, issue 13 item 5: the workflow's current details say where each clock
// stands, with its deadline, and what the timer waits for.
func TestR3_CurrentDetailsShowTheClocks(t *testing.T) {
	h := newHarness(t, monday)
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "called"})
	h.at(2*time.Hour, func() {
		d := h.details()
		for _, want := range []string{
			"**open**, assignee agent1 (team team-a), policy v1",
			"- contact: met 2026-03-02 11:00:00 +08:00 (due 2026-03-03 10:00:00 +08:00)",
			"- plan: due 2026-03-04 10:00:00 +08:00, warning at 2026-03-03 22:00:00 +08:00",
			"- resolution: due 2026-03-12 00:00:00 +08:00",
			"Next: plan: warning at 2026-03-03 22:00:00 +08:00",
		} {
			if !strings.Contains(d, want) {
				t.Errorf("details lack %q:\n%s", want, d)
			}
		}
	})
	h.cancelAt(3 * time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// instants lists every instant of a complaint's state, by where it is.
func instants(st ComplaintState) map[string]time.Time {
	out := map[string]time.Time{"received_at": st.ReceivedAt, "as_of": st.AsOf}
	opt := func(name string, t *time.Time) {
		if t != nil {
			out[name] = *t
		}
	}
	opt("resolved_at", st.ResolvedAt)
	opt("next_due_at", st.NextDueAt)
	for _, c := range st.Clocks {
		n := string(c.Name) + "."
		out[n+"due_at"] = c.DueAt
		opt(n+"met_at", c.MetAt)
		opt(n+"paused_at", c.PausedAt)
		opt(n+"warned_at", c.WarnedAt)
		opt(n+"warn_at", c.WarnAt)
		opt(n+"level2_due_at", c.Level2DueAt)
	}
	for _, e := range st.Escalations {
		out[e.ID+".escalated_at"] = e.EscalatedAt
	}
	for _, e := range st.Events {
		out[e.Type+".at"] = e.At
		for k, v := range e.Data {
			if tm, ok := v.(time.Time); ok {
				out[e.Type+"."+k] = tm
			}
		}
	}
	return out
}

// R3, issue 13 item 7: a complaint records whole seconds, whatever the
// fractions of its receipt, of the commands' instants and of workflow.Now:
// deadlines, met, paused and warned times, escalations, events.
func TestR3_TimesAreWholeSeconds(t *testing.T) {
	const frac = 137435444 * time.Nanosecond
	received := monday.Add(frac)
	h := newHarness(t, received)
	h.env.SetStartTime(received.Add(frac))
	contacted := received.Add(30*time.Minute + frac)
	h.ok(time.Hour+frac, UpdateContact, ContactInput{Actor: "agent1", Note: "called", ContactedAt: &contacted})
	// The plan clock is missed (level 1 at 48 h) with its warning first.
	h.ok(50*time.Hour+frac, UpdatePause, PauseInput{Actor: "agent1", Reason: "photos"})
	h.ok(51*time.Hour+3*frac, UpdateResume, ResumeInput{Actor: "agent1"})
	h.ok(52*time.Hour+frac, UpdateExtend, ExtendInput{Actor: "officer1", Clock: ClockResolution, DueAt: monday.Add(20*24*time.Hour + frac), Reason: "parts"})
	h.ok(53*time.Hour+frac, UpdatePlan, PlanInput{Actor: "agent1", Plan: "swap"})
	h.ok(54*time.Hour+frac, UpdateResolve, ResolveInput{Actor: "agent1", Resolution: "swapped"}, func(st ComplaintState) {
		if len(st.Escalations) == 0 {
			t.Error("want the plan clock escalated")
		}
		for where, at := range instants(st) {
			if at.Nanosecond() != 0 {
				t.Errorf("%s = %s: not a whole second", where, at.Format(time.RFC3339Nano))
			}
		}
	})
	h.ok(55*time.Hour, UpdateSurvey, SurveyInput{Actor: "agent1", Ratings: Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}})
	h.run()
	for _, e := range h.rec.escalations {
		if e.EscalatedAt.Nanosecond() != 0 {
			t.Errorf("escalation written at %s", e.EscalatedAt.Format(time.RFC3339Nano))
		}
	}
	for _, s := range h.rec.surveys {
		if s.SurveyedAt.Nanosecond() != 0 {
			t.Errorf("survey written at %s", s.SurveyedAt.Format(time.RFC3339Nano))
		}
	}
}

// R3, issue 13 item 7: a back-dated complaint whose contact deadline had
// passed when it arrived escalates instead of warning, and reports no
// warned_at for the warning it never sent; its plan clock, past its
// warning instant but not its deadline, is warned and says so.
func TestR3_BackdatedComplaintReportsNoWarningItNeverSent(t *testing.T) {
	h := newHarness(t, monday)
	h.in.ReceivedAt = monday.Add(-40 * time.Hour) // contact missed (24 h); plan warned (36 h of 48)
	h.at(time.Minute, func() {
		st := h.query()
		contact, plan := clockOf(st, ClockContact), clockOf(st, ClockPlan)
		if contact.WarnedAt != nil || !contact.Breached {
			t.Errorf("contact: warned_at %v, breached %v; want no warned_at, breached", contact.WarnedAt, contact.Breached)
		}
		if plan.WarnedAt == nil || plan.Breached {
			t.Errorf("plan: warned_at %v, breached %v; want warned, not breached", plan.WarnedAt, plan.Breached)
		}
		for _, e := range eventsOf(st, EventWarning) {
			if e.Data["clock"] == string(ClockContact) {
				t.Errorf("a contact warning event: %+v", e)
			}
		}
		if h.rec.count("warning", ClockContact, 0) != 0 || h.rec.count("warning", ClockPlan, 0) != 1 {
			t.Errorf("notices: %+v", h.rec.notifications)
		}
		b, _ := json.Marshal(contact)
		if strings.Contains(string(b), "warned_at") {
			t.Errorf("the contact clock's answer reports warned_at: %s", b)
		}
	})
	h.cancelAt(2 * time.Minute)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// R3, R5.3, issue 13 item 5: what the Web UI shows of a workflow from its
// start: a one-line summary without personal data (R7), and the policy it
// runs by, its durations readable ("24h").
func TestStaticSummariesAndDetails(t *testing.T) {
	in := ComplaintInput{ComplaintNo: "C-1", AssigneeID: "agent1", TeamID: "team-a", ReceivedAt: monday,
		Policy: DefaultSLAPolicy(), Location: "Asia/Shanghai"}
	if got, want := in.StaticSummary(), "Complaint C-1: assigned to agent1 (team team-a), received 2026-03-02 10:00:00 +08:00"; got != want {
		t.Errorf("complaint summary %q, want %q", got, want)
	}
	if got := in.StaticDetails(); !strings.Contains(got, "contact within 24h, plan within 48h, resolution within 7 working days") ||
		!strings.Contains(got, "warning at 75% of a clock") || !strings.Contains(got, "reopen within 720h") {
		t.Errorf("complaint details %q", got)
	}
	r := RewardInput{NominationNo: "N-1", NomineeID: "agent1", NominatorID: "manager1", Kind: KindCash, AmountFen: 123456,
		HeadID: "head1", NominatedAt: tuesday, Location: "Asia/Shanghai", Reason: "a reason that stays out"}
	if got, want := r.StaticSummary(), "Reward N-1: cash 1234.56 CNY for agent1, nominated by manager1 2026-03-03 10:00:00 +08:00"; got != want {
		t.Errorf("reward summary %q, want %q", got, want)
	}
	if got := r.StaticDetails(); !strings.Contains(got, "step 1 by the department head head1") || !strings.Contains(got, "3 working days a step, a reminder after 2") {
		t.Errorf("reward details %q", got)
	}
}
