package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/calendar"
)

// Zone is the calendar's time zone an input names (R2: Asia/Shanghai
// unless configured otherwise). The configuration is the server's and the
// worker's, which always send it; there is no default here, so a case
// never silently counts its days in another zone. Deterministic in a
// workflow: the zone data is compiled in (calendar imports time/tzdata).
func Zone(name string) (*time.Location, error) {
	if name == "" {
		return nil, errors.New("no time zone: an input names its calendar's zone (R2)")
	}
	return time.LoadLocation(name)
}

// zoneOf is Zone for a workflow's input: a bad zone is invalid input that
// no retry can mend.
func zoneOf(name string) (*time.Location, error) {
	loc, err := Zone(name)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("location: "+err.Error(), ErrInvalidInput, err)
	}
	return loc, nil
}

// newCalendar builds a workflow's calendar from the overrides it recorded
// and its zone.
func newCalendar(location string, overrides []calendar.Override) (*calendar.Calendar, error) {
	loc, err := zoneOf(location)
	if err != nil {
		return nil, err
	}
	return calendar.New(loc, overrides), nil
}

// locationOf is the zone to show an instant in (summaries for people): the
// input's, or UTC when it names none (a start refused for it anyway).
func locationOf(name string) *time.Location {
	if loc, err := Zone(name); err == nil {
		return loc
	}
	return time.UTC
}
