package workflows

import (
	"testing"
	"time"
)

// R3: a clock's state as the console shows it.
func TestR3_ClockState(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	for _, c := range []struct {
		name string
		k    Clock
		want string
	}{
		{"running", Clock{DueAt: now.Add(time.Hour), WarnAt: at(30 * time.Minute)}, ClockRunning},
		{"warned at its warning instant", Clock{DueAt: now.Add(time.Hour), WarnAt: at(0)}, ClockWarned},
		{"breached at its deadline", Clock{DueAt: now, WarnAt: at(-time.Hour)}, ClockBreached},
		{"breached when escalated, deadline since extended", Clock{DueAt: now.Add(time.Hour), Breached: true}, ClockBreached},
		{"paused", Clock{DueAt: now.Add(-time.Hour), Paused: true}, ClockPaused},
		{"met, even late", Clock{DueAt: now.Add(-time.Hour), MetAt: at(0), Breached: true}, ClockMet},
		{"no warning instant (synced before it existed)", Clock{DueAt: now.Add(time.Hour)}, ClockRunning},
	} {
		if got := c.k.State(now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

// R2, R3: the clock arithmetic's one home: met strictly before the
// deadline is on time; a running clock is missed from its deadline on, a
// paused one never while paused; remaining time freezes once met or while
// paused; the next deadline is the earliest running clock's.
func TestR3_ClockArithmetic(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	for _, c := range []struct {
		name      string
		k         Clock
		missed    bool
		remaining int64
	}{
		{"running, an hour left", Clock{DueAt: now.Add(time.Hour)}, false, 3600},
		{"running, due this instant", Clock{DueAt: now}, true, 0},
		{"overdue", Clock{DueAt: now.Add(-time.Minute)}, true, -60},
		{"met a second before", Clock{DueAt: now, MetAt: at(-time.Second)}, false, 1},
		{"met at the deadline instant", Clock{DueAt: now, MetAt: at(0)}, true, 0},
		{"paused past its deadline", Clock{DueAt: now.Add(-time.Hour), Paused: true, PausedAt: at(-2 * time.Hour)}, false, 3600},
		{"paused, instant unknown (a list row)", Clock{DueAt: now.Add(time.Hour), Paused: true}, false, 0},
	} {
		k := c.k
		k.Settle(now)
		if k.Missed(now) != c.missed || k.Breached != c.missed || k.RemainingSeconds != c.remaining {
			t.Errorf("%s: missed %v breached %v remaining %d, want %v %d", c.name, k.Missed(now), k.Breached, k.RemainingSeconds, c.missed, c.remaining)
		}
	}
	clocks := []Clock{{DueAt: now.Add(-time.Hour), MetAt: at(-2 * time.Hour)}, {DueAt: now.Add(2 * time.Hour), Paused: true},
		{DueAt: now.Add(3 * time.Hour)}, {DueAt: now.Add(-time.Minute)}}
	if next := NextDue(clocks); next == nil || !next.Equal(now.Add(-time.Minute)) {
		t.Errorf("next due %v, want the overdue running clock's", next)
	}
	if NextDue(clocks[:2]) != nil {
		t.Error("a met and a paused clock have no next due")
	}
}
