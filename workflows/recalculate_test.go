package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/acme/aftersales/calendar"
)

// recalc sends UpdateRecalculate at offset; check sees its answer.
func (h *harness) recalc(offset time.Duration, in RecalculateInput, check func(RecalculateResult, error)) {
	h.pending++
	h.at(offset, func() {
		h.env.UpdateWorkflow(UpdateRecalculate, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { h.pending--; check(RecalculateResult{}, err) },
			OnComplete: func(v any, err error) {
				h.pending--
				r, _ := v.(RecalculateResult)
				check(r, err)
			},
		}, in)
	})
}

func (h *harness) preview(in RecalculateInput) []ClockChange {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryRecalculation, in)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []ClockChange
	if err := v.Get(&out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func eventsOf(st ComplaintState, typ string) []Event {
	var out []Event
	for _, e := range st.Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// R2, last rule: a company day off added after receipt reaches the running
// complaint only by a recalculation; the preview shows the move without
// making it, the apply records who, when, why, old and new deadline.
// Received Monday 2 March 10:00: 7 working days end Wed 11 (Thu 12 00:00);
// with Tue 3 off they end Thu 12 (Fri 13 00:00). Contact and plan are
// elapsed hours and do not move.
func TestR2_RecalculationMovesTheRunningDeadline(t *testing.T) {
	h := newHarness(t, monday)
	dayOff := []calendar.Override{{Date: calendar.Date{Year: 2026, Month: 3, Day: 3}, Working: false, Note: "company day off"}}
	in := RecalculateInput{Actor: "officer1", Reason: "company day off on the 3rd", BatchID: "b1", Calendar: dayOff}
	oldDue, newDue := time.Date(2026, 3, 12, 0, 0, 0, 0, shanghai), time.Date(2026, 3, 13, 0, 0, 0, 0, shanghai)
	h.at(time.Hour, func() {
		got := h.preview(in)
		if len(got) != 1 || got[0].Clock != ClockResolution || !got[0].OldDueAt.Equal(oldDue) || !got[0].NewDueAt.Equal(newDue) {
			t.Errorf("preview %+v", got)
		}
		if d := clockOf(h.query(), ClockResolution).DueAt; !d.Equal(oldDue) {
			t.Errorf("the preview moved the deadline to %s", d)
		}
	})
	h.recalc(2*time.Hour, in, func(r RecalculateResult, err error) {
		if err != nil || len(r.Changes) != 1 || !clockOf(r.State, ClockResolution).DueAt.Equal(newDue) {
			t.Fatalf("apply: %+v %v", r.Changes, err)
		}
		ev := eventsOf(r.State, EventRecalculated)
		if len(ev) != 1 || ev[0].ActorID != "officer1" || ev[0].Reason != in.Reason || ev[0].Data["batch_id"] != "b1" {
			t.Errorf("audit event %+v", ev)
		}
	})
	// The same rules again move nothing and record nothing.
	h.recalc(3*time.Hour, in, func(r RecalculateResult, err error) {
		if err != nil || len(r.Changes) != 0 || len(eventsOf(r.State, EventRecalculated)) != 1 {
			t.Errorf("second apply: %+v %v", r.Changes, err)
		}
	})
	h.cancelAt(4 * time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// R2, R3: a recalculation whose new deadline has already passed escalates
// at once, exactly once per level; the escalations of the clocks that had
// already missed stay as they were. Received Monday 10:00, contact and plan
// met; on Saturday 7 March the case moves to a 2-working-day policy: due
// Thu 5 00:00 (passed), so level 1 now, and level 2 (one working day after
// the miss: Fri 6 24:00) now as well.
func TestR2_RecalculatedPastDeadlineEscalatesOnce(t *testing.T) {
	h := newHarness(t, monday)
	h.ok(time.Hour, UpdateContact, ContactInput{Actor: "agent1", Note: "called"})
	h.ok(time.Hour+sec, UpdatePlan, PlanInput{Actor: "agent1", Plan: "swap"})
	short := DefaultSLAPolicy()
	short.Version, short.ResolutionWorkingDays = 2, 2
	in := RecalculateInput{Actor: "admin1", Reason: "policy v2", BatchID: "b2", Policy: &short}
	saturday := 5 * 24 * time.Hour
	h.recalc(saturday, in, func(r RecalculateResult, err error) {
		if err != nil || len(r.Changes) != 1 || !r.Changes[0].NewDueAt.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, shanghai)) {
			t.Fatalf("apply: %+v %v", r.Changes, err)
		}
		if r.State.PolicyVersion != 2 || len(r.State.Escalations) != 2 || !clockOf(r.State, ClockResolution).Breached {
			t.Errorf("state: policy %d, escalations %+v", r.State.PolicyVersion, r.State.Escalations)
		}
	})
	h.recalc(saturday+time.Minute, in, func(r RecalculateResult, err error) {
		if err != nil || len(r.Changes) != 0 {
			t.Errorf("again: %+v %v", r.Changes, err)
		}
	})
	h.at(saturday+time.Hour, func() {
		for level := 1; level <= 2; level++ {
			if n := h.rec.count("escalation", ClockResolution, level); n != 1 {
				t.Errorf("level %d sent %d times", level, n)
			}
		}
		if len(h.rec.deductions) != 1 {
			t.Errorf("%d deductions, want the one of the first miss", len(h.rec.deductions))
		}
	})
	h.cancelAt(saturday + 2*time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}

// R2, R3: an extended deadline is an officer's decision and stands; a
// closed or resolved case is not recalculated (409); bad input is refused.
func TestR2_RecalculationKeepsExtensionsAndRefusesBadInput(t *testing.T) {
	h := newHarness(t, monday)
	extended := time.Date(2026, 3, 20, 0, 0, 0, 0, shanghai)
	h.ok(time.Hour, UpdateExtend, ExtendInput{Actor: "officer1", Clock: ClockResolution, DueAt: extended, Reason: "parts"})
	dayOff := []calendar.Override{{Date: calendar.Date{Year: 2026, Month: 3, Day: 3}, Working: false}}
	h.recalc(2*time.Hour, RecalculateInput{Actor: "officer1", Reason: "day off", BatchID: "b3", Calendar: dayOff}, func(r RecalculateResult, err error) {
		if err != nil || len(r.Changes) != 0 || !clockOf(r.State, ClockResolution).DueAt.Equal(extended) {
			t.Errorf("extension moved: %+v %v", r.Changes, err)
		}
	})
	h.rejected(3*time.Hour, "no reason", UpdateRecalculate, RecalculateInput{Actor: "officer1", BatchID: "b4"}, ErrInvalidInput)
	broken := DefaultSLAPolicy()
	broken.ResolutionWorkingDays = 0
	h.rejected(3*time.Hour+sec, "broken policy", UpdateRecalculate, RecalculateInput{Actor: "officer1", Reason: "x", BatchID: "b5", Policy: &broken}, ErrInvalidInput)
	h.resolveAt(4 * time.Hour)
	h.rejected(5*time.Hour, "resolved", UpdateRecalculate, RecalculateInput{Actor: "officer1", Reason: "x", BatchID: "b6"}, ErrConflict)
	h.cancelAt(6 * time.Hour)
	h.env.ExecuteWorkflow(ComplaintWorkflowType, h.in)
	h.checked()
}
