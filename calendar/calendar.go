// Package calendar implements the working-day calendar of business rule R2.
//
// R2: a working day is Monday to Friday, minus mainland China statutory
// holidays, plus the adjusted working weekend days (调休) of the State
// Council's yearly notice, with company overrides winning over everything.
// Dates are taken in the calendar's zone (Asia/Shanghai by default).
// "N working days from instant t" ends at 24:00 local of the N-th working day
// after the local day of t (that day itself never counts).
//
// The package is pure and deterministic (no I/O after init, no clock, no
// mutable global state) so that Temporal workflow code can call it.
package calendar

import (
	"slices"
	"time"
	_ "time/tzdata" // R2 default zone must load on hosts without zoneinfo.
)

// DefaultZone is the R2 time zone used when New is given a nil location.
const DefaultZone = "Asia/Shanghai"

// Source says why a day is or is not a working day.
type Source string

const (
	Weekday   Source = "weekday"   // ordinary Monday..Friday, working
	Weekend   Source = "weekend"   // ordinary Saturday/Sunday, not working
	Statutory Source = "statutory" // official holiday, not working
	Adjusted  Source = "adjusted"  // official 调休 working day (on a weekend)
	Company   Source = "company"   // admin override, either way
)

// Day is the R2 classification of one date.
type Day struct {
	Date    Date   `json:"date"`
	Working bool   `json:"working"`
	Source  Source `json:"source"`
	Name    string `json:"name,omitempty"` // official holiday name (e.g. "国庆节") or override note
}

// Override is a company decision for one date, set by an admin.
type Override struct {
	Date    Date   `json:"date"`
	Working bool   `json:"working"`
	Note    string `json:"note"`
}

// Calendar is an immutable R2 calendar; build a new one when overrides
// change. It is safe for concurrent use.
type Calendar struct {
	loc       *time.Location
	overrides map[Date]Override // lookup only, never iterated
	sorted    []Override        // the same overrides sorted by date
}

// New returns a calendar in loc (nil means DefaultZone) with the given
// overrides. Invalid override dates are normalized like time.Date does
// (2026-02-30 becomes 2026-03-02). When several overrides share a date the
// last one in the slice wins, as if an admin's edits were applied in order.
func New(loc *time.Location, overrides []Override) *Calendar {
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(DefaultZone); err != nil {
			// Cannot happen: time/tzdata is embedded.
			panic("calendar: " + err.Error())
		}
	}
	// Stable sort, then keep the last entry of each run of equal dates: the
	// result depends only on the input slice, never on map iteration order.
	all := make([]Override, len(overrides))
	for i, o := range overrides {
		o.Date = o.Date.normalize()
		all[i] = o
	}
	slices.SortStableFunc(all, func(a, b Override) int { return a.Date.Compare(b.Date) })
	c := &Calendar{loc: loc, overrides: make(map[Date]Override, len(all))}
	for i, o := range all {
		if i+1 < len(all) && all[i+1].Date == o.Date {
			continue // a later entry for the same date wins
		}
		c.sorted = append(c.sorted, o)
		c.overrides[o.Date] = o
	}
	return c
}

// Location returns the zone in which the calendar takes local dates.
func (c *Calendar) Location() *time.Location { return c.loc }

// Overrides returns a copy of the effective overrides sorted by date: the
// snapshot a workflow can carry in its input and pass back to New.
func (c *Calendar) Overrides() []Override { return slices.Clone(c.sorted) }

// Day classifies d under R2: company override, else official notice data,
// else the day of the week.
func (c *Calendar) Day(d Date) Day {
	d = d.normalize()
	if o, ok := c.overrides[d]; ok {
		return Day{Date: d, Working: o.Working, Source: Company, Name: o.Note}
	}
	if h, ok := officialDays[d]; ok {
		if h.work {
			return Day{Date: d, Working: true, Source: Adjusted, Name: h.name}
		}
		return Day{Date: d, Working: false, Source: Statutory, Name: h.name}
	}
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return Day{Date: d, Working: false, Source: Weekend}
	}
	return Day{Date: d, Working: true, Source: Weekday}
}

// Days returns Day for every date from..to inclusive; empty if to < from.
func (c *Calendar) Days(from, to Date) []Day {
	from, to = from.normalize(), to.normalize()
	var out []Day
	for d := from; !d.After(to); d = d.AddDays(1) {
		out = append(out, c.Day(d))
	}
	return out
}

// IsWorkingDay reports whether d is an R2 working day.
func (c *Calendar) IsWorkingDay(d Date) bool { return c.Day(d).Working }

// AddWorkingDays returns the R2 deadline for "n working days from t": the
// local day of t never counts (even if it is a working day, a holiday or a
// weekend); counting starts at the first working day after it, and the
// deadline is 24:00 local at the end of the n-th working day, returned as
// 00:00 of the following calendar day in the calendar's zone. A clock is met
// by any instant strictly before the result.
//
// It panics if n < 1: zero or negative working days has no R2 meaning, and a
// silent fallback would hide a caller bug (callers validate n).
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	if n < 1 {
		panic("calendar: AddWorkingDays needs n >= 1 (R2)")
	}
	d := DateOf(t, c.loc)
	for left := n; left > 0; {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			left--
		}
	}
	return d.AddDays(1).Start(c.loc)
}
