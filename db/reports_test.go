package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/aftersales/internal/pgtest"
)

// R3, R2: the one definition of "on time" (migration 00012), shared by the
// assessment (MonthComplaints) and the timeliness report: met strictly
// before the deadline is on time, met at the deadline instant is late, an
// unmet running clock is overdue from its deadline on, a paused one never.
func TestR3_ClockStanding(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	due := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := due.Add(d); return &v }
	for _, c := range []struct {
		name    string
		due     *time.Time
		met     *time.Time
		running bool
		asOf    time.Time
		want    *string
		missed  bool
	}{
		{"no deadline", nil, nil, true, due, nil, false},
		{"met a second early", &due, at(-time.Second), true, due, strp("on_time"), false},
		{"met at the deadline instant (R2)", &due, at(0), true, due, strp("late"), true},
		{"met after", &due, at(time.Hour), true, due.Add(2 * time.Hour), strp("late"), true},
		{"met late, judged before the meeting", &due, at(time.Hour), true, due.Add(-time.Hour), strp("late"), true},
		{"unmet, not yet due", &due, nil, true, due.Add(-time.Second), strp("open"), false},
		{"unmet, due now", &due, nil, true, due, strp("overdue"), true},
		{"unmet, past due", &due, nil, true, due.Add(time.Hour), strp("overdue"), true},
		{"unmet, paused past due", &due, nil, false, due.Add(time.Hour), strp("open"), false},
		{"met while paused, late", &due, at(time.Minute), false, due.Add(time.Hour), strp("late"), true},
	} {
		var got *string
		var missed bool
		err := pool.QueryRow(ctx, `SELECT clock_standing($1, $2, $3, $4), clock_missed($1, $2, $3, $4)`,
			c.due, c.met, c.running, c.asOf).Scan(&got, &missed)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) || missed != c.missed {
			t.Errorf("%s: standing %v missed %v, want %v %v", c.name, deref(got), missed, deref(c.want), c.missed)
		}
	}
}

// R3, R4.0: a complaint's first miss is the earliest deadline among its
// missed clocks, whichever clock it is; none missed is NULL (timely once
// resolved).
func TestR3_ComplaintFirstMiss(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	rcv := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	contact, plan, resolution := rcv.Add(24*time.Hour), rcv.Add(48*time.Hour), rcv.Add(9*24*time.Hour)
	after := func(t time.Time) *time.Time { v := t.Add(time.Minute); return &v }
	before := func(t time.Time) *time.Time { v := t.Add(-time.Minute); return &v }
	for _, c := range []struct {
		name                string
		contactMet, planMet *time.Time
		resolutionMet       *time.Time
		paused              bool
		asOf                time.Time
		want                *time.Time
	}{
		{"all on time", before(contact), before(plan), before(resolution), false, resolution.Add(time.Hour), nil},
		{"plan late, resolution late", before(contact), after(plan), after(resolution), false, resolution.Add(time.Hour), &plan},
		{"contact never met", nil, before(plan), before(resolution), false, resolution, &contact},
		{"only resolution overdue", before(contact), before(plan), nil, false, resolution, &resolution},
		{"resolution paused past due", before(contact), before(plan), nil, true, resolution.Add(time.Hour), nil},
		{"still running", before(contact), nil, nil, false, plan.Add(-time.Hour), nil},
	} {
		var got *time.Time
		err := pool.QueryRow(ctx, `SELECT complaint_first_miss($1, $2, $3, $4, $5, $6, $7, $8)`,
			contact, c.contactMet, plan, c.planMet, resolution, c.resolutionMet, c.paused, c.asOf).Scan(&got)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if (got == nil) != (c.want == nil) || (got != nil && !got.Equal(*c.want)) {
			t.Errorf("%s: first miss %v, want %v", c.name, got, c.want)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "NULL"
	}
	return *s
}
