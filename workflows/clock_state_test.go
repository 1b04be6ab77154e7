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
