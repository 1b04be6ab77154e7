package calendar

import (
	"testing"
	"time"
)

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// instant parses an RFC 3339 instant.
func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", s, err)
	}
	return v
}

type deadlineCase struct {
	name  string
	event string // RFC 3339
	n     int
	want  string // RFC 3339, the exclusive deadline
}

func checkDeadlines(t *testing.T, c *Calendar, cases []deadlineCase) {
	t.Helper()
	for _, tc := range cases {
		got := c.AddWorkingDays(instant(t, tc.event), tc.n)
		want := instant(t, tc.want)
		if !got.Equal(want) {
			t.Errorf("%s: AddWorkingDays(%s, %d) = %s, want %s", tc.name, tc.event, tc.n, got.Format(time.RFC3339), tc.want)
		}
		if got.Location() != c.Location() {
			t.Errorf("%s: result in %v, want calendar zone %v", tc.name, got.Location(), c.Location())
		}
	}
}

// R2 example. March 2026 has no official entries: Mon 2026-03-09 10:00,
// 7 working days = Tue 10, Wed 11, Thu 12, Fri 13, Mon 16, Tue 17, Wed 18;
// deadline Wed 18 24:00 = Thu 2026-03-19 00:00+08:00.
func TestR2_ExampleNoHolidays(t *testing.T) {
	c := New(shanghai(t), nil)
	checkDeadlines(t, c, []deadlineCase{
		{"R2 example", "2026-03-09T10:00:00+08:00", 7, "2026-03-19T00:00:00+08:00"},
		{"1 day from Monday", "2026-03-09T10:00:00+08:00", 1, "2026-03-11T00:00:00+08:00"},
		{"4 days from Monday ends Friday", "2026-03-09T10:00:00+08:00", 4, "2026-03-14T00:00:00+08:00"},
		{"5 days from Monday skips weekend", "2026-03-09T10:00:00+08:00", 5, "2026-03-17T00:00:00+08:00"},
		{"10 days from Monday", "2026-03-09T10:00:00+08:00", 10, "2026-03-24T00:00:00+08:00"},
	})
	// A clock is met by anything strictly before the deadline.
	dl := c.AddWorkingDays(instant(t, "2026-03-09T10:00:00+08:00"), 7)
	if !instant(t, "2026-03-18T23:59:59+08:00").Before(dl) || instant(t, "2026-03-19T00:00:00+08:00").Before(dl) {
		t.Errorf("deadline %v is not the exclusive end of Wed 2026-03-18", dl)
	}
}

type dayCase struct {
	date    string
	working bool
	source  Source
}

func checkDays(t *testing.T, c *Calendar, from, to string, want []dayCase) {
	t.Helper()
	got := c.Days(mustDate(t, from), mustDate(t, to))
	if len(got) != len(want) {
		t.Fatalf("Days(%s, %s) returned %d days, want %d", from, to, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Date.String() != w.date || g.Working != w.working || g.Source != w.source {
			t.Errorf("Days[%d] = %+v, want %s working=%v source=%s", i, g, w.date, w.working, w.source)
		}
		if one := c.Day(g.Date); one != g || c.IsWorkingDay(g.Date) != w.working {
			t.Errorf("Day(%s) = %+v disagrees with Days %+v", g.Date, one, g)
		}
	}
}

// 2026 Spring Festival: off Sun Feb 15 .. Mon Feb 23; adjusted working
// Sat Feb 14 and Sat Feb 28.
func TestR2_SpringFestival2026(t *testing.T) {
	c := New(shanghai(t), nil)
	checkDays(t, c, "2026-02-10", "2026-03-02", []dayCase{
		{"2026-02-10", true, Weekday},    // Tue
		{"2026-02-11", true, Weekday},    // Wed
		{"2026-02-12", true, Weekday},    // Thu
		{"2026-02-13", true, Weekday},    // Fri
		{"2026-02-14", true, Adjusted},   // Sat 调休
		{"2026-02-15", false, Statutory}, // Sun
		{"2026-02-16", false, Statutory}, // Mon
		{"2026-02-17", false, Statutory}, // Tue 春节
		{"2026-02-18", false, Statutory}, // Wed
		{"2026-02-19", false, Statutory}, // Thu
		{"2026-02-20", false, Statutory}, // Fri
		{"2026-02-21", false, Statutory}, // Sat
		{"2026-02-22", false, Statutory}, // Sun
		{"2026-02-23", false, Statutory}, // Mon
		{"2026-02-24", true, Weekday},    // Tue
		{"2026-02-25", true, Weekday},    // Wed
		{"2026-02-26", true, Weekday},    // Thu
		{"2026-02-27", true, Weekday},    // Fri
		{"2026-02-28", true, Adjusted},   // Sat 调休
		{"2026-03-01", false, Weekend},   // Sun
		{"2026-03-02", true, Weekday},    // Mon
	})
	if d := c.Day(mustDate(t, "2026-02-17")); d.Name != "春节" {
		t.Errorf("2026-02-17 name = %q, want 春节", d.Name)
	}
	// Worked out by hand from the table above:
	//  Thu 02-12 event: 1=Fri 13, 2=Sat 14, 3=Tue 24, 4=Wed 25, 5=Thu 26,
	//                   6=Fri 27, 7=Sat 28.
	//  Fri 02-13 event: 1=Sat 14, 2=Tue 24, 3=Wed 25, 4=Thu 26, 5=Fri 27,
	//                   6=Sat 28, 7=Mon 03-02.
	//  Sat 02-14 event (adjusted working day, still does not count):
	//                   1=Tue 24 .. 5=Sat 28, 6=Mon 03-02, 7=Tue 03-03.
	checkDeadlines(t, c, []deadlineCase{
		{"Thu before, 5", "2026-02-12T10:00:00+08:00", 5, "2026-02-27T00:00:00+08:00"},
		{"Thu before, 7", "2026-02-12T10:00:00+08:00", 7, "2026-03-01T00:00:00+08:00"},
		{"Fri before, 5", "2026-02-13T15:00:00+08:00", 5, "2026-02-28T00:00:00+08:00"},
		{"Fri before, 7", "2026-02-13T15:00:00+08:00", 7, "2026-03-03T00:00:00+08:00"},
		{"Sat 调休, 5", "2026-02-14T09:00:00+08:00", 5, "2026-03-01T00:00:00+08:00"},
		{"Sat 调休, 7", "2026-02-14T09:00:00+08:00", 7, "2026-03-04T00:00:00+08:00"},
	})
}

// 2026 Mid-Autumn Fri Sep 25 .. Sun Sep 27 and National Day Thu Oct 1 ..
// Wed Oct 7; adjusted working Sun Sep 20 and Sat Oct 10.
func TestR2_NationalDay2026(t *testing.T) {
	c := New(shanghai(t), nil)
	checkDays(t, c, "2026-09-18", "2026-10-12", []dayCase{
		{"2026-09-18", true, Weekday},    // Fri
		{"2026-09-19", false, Weekend},   // Sat
		{"2026-09-20", true, Adjusted},   // Sun 调休
		{"2026-09-21", true, Weekday},    // Mon
		{"2026-09-22", true, Weekday},    // Tue
		{"2026-09-23", true, Weekday},    // Wed
		{"2026-09-24", true, Weekday},    // Thu
		{"2026-09-25", false, Statutory}, // Fri 中秋节
		{"2026-09-26", false, Statutory}, // Sat
		{"2026-09-27", false, Statutory}, // Sun
		{"2026-09-28", true, Weekday},    // Mon
		{"2026-09-29", true, Weekday},    // Tue
		{"2026-09-30", true, Weekday},    // Wed
		{"2026-10-01", false, Statutory}, // Thu 国庆节
		{"2026-10-02", false, Statutory}, // Fri
		{"2026-10-03", false, Statutory}, // Sat
		{"2026-10-04", false, Statutory}, // Sun
		{"2026-10-05", false, Statutory}, // Mon
		{"2026-10-06", false, Statutory}, // Tue
		{"2026-10-07", false, Statutory}, // Wed
		{"2026-10-08", true, Weekday},    // Thu
		{"2026-10-09", true, Weekday},    // Fri
		{"2026-10-10", true, Adjusted},   // Sat 调休
		{"2026-10-11", false, Weekend},   // Sun
		{"2026-10-12", true, Weekday},    // Mon
	})
	if d := c.Day(mustDate(t, "2026-10-01")); d.Name != "国庆节" {
		t.Errorf("2026-10-01 name = %q, want 国庆节", d.Name)
	}
	// Worked out by hand from the table above:
	//  Fri 09-18 event: 1=Sun 20, 2=Mon 21, 3=Tue 22, 4=Wed 23, 5=Thu 24,
	//                   6=Mon 28, 7=Tue 29.
	//  Wed 09-23 event: 1=Thu 24, 2=Mon 28, 3=Tue 29, 4=Wed 30, 5=Thu 10-08,
	//                   6=Fri 10-09, 7=Sat 10-10.
	//  Tue 09-29 event: 1=Wed 30, 2=Thu 10-08, 3=Fri 10-09, 4=Sat 10-10,
	//                   5=Mon 10-12, 6=Tue 10-13, 7=Wed 10-14.
	checkDeadlines(t, c, []deadlineCase{
		{"Fri 09-18, 5", "2026-09-18T18:00:00+08:00", 5, "2026-09-25T00:00:00+08:00"},
		{"Fri 09-18, 7", "2026-09-18T18:00:00+08:00", 7, "2026-09-30T00:00:00+08:00"},
		{"Wed 09-23, 5", "2026-09-23T09:00:00+08:00", 5, "2026-10-09T00:00:00+08:00"},
		{"Wed 09-23, 7", "2026-09-23T09:00:00+08:00", 7, "2026-10-11T00:00:00+08:00"},
		{"Tue 09-29, 5", "2026-09-29T10:00:00+08:00", 5, "2026-10-13T00:00:00+08:00"},
		{"Tue 09-29, 7", "2026-09-29T10:00:00+08:00", 7, "2026-10-15T00:00:00+08:00"},
	})
}

// The local day of the event never counts, so one second across local
// midnight moves the deadline by one working day when both days are working
// days, and not at all when the later day is not a working day.
func TestR2_EventAtDayBoundaries(t *testing.T) {
	c := New(shanghai(t), nil)
	checkDeadlines(t, c, []deadlineCase{
		// Tue 23:59:59: 1=Wed 03-11. Wed 00:00:00: 1=Thu 03-12.
		{"Tue 23:59:59", "2026-03-10T23:59:59+08:00", 1, "2026-03-12T00:00:00+08:00"},
		{"Wed 00:00:00", "2026-03-11T00:00:00+08:00", 1, "2026-03-13T00:00:00+08:00"},
		// 7 days: Tue 23:59:59 -> Wed 11..Thu 19 ; Wed 00:00 -> Thu 12..Fri 20.
		{"Tue 23:59:59, 7", "2026-03-10T23:59:59+08:00", 7, "2026-03-20T00:00:00+08:00"},
		{"Wed 00:00:00, 7", "2026-03-11T00:00:00+08:00", 7, "2026-03-21T00:00:00+08:00"},
		// Fri 23:59:59 and Sat 00:00:00 both give 1=Mon 03-16.
		{"Fri 23:59:59", "2026-03-13T23:59:59+08:00", 1, "2026-03-17T00:00:00+08:00"},
		{"Sat 00:00:00", "2026-03-14T00:00:00+08:00", 1, "2026-03-17T00:00:00+08:00"},
		// Wed 09-30 23:59:59 (last day before National Day) and Thu 10-01
		// 00:00 (holiday) both give 1=Thu 10-08.
		{"eve of National Day", "2026-09-30T23:59:59+08:00", 1, "2026-10-09T00:00:00+08:00"},
		{"National Day 00:00", "2026-10-01T00:00:00+08:00", 1, "2026-10-09T00:00:00+08:00"},
	})
}

func TestR2_EventOnHolidayOrWeekend(t *testing.T) {
	c := New(shanghai(t), nil)
	checkDeadlines(t, c, []deadlineCase{
		// Thu 10-01 holiday: 1=Thu 10-08, 2=Fri 10-09, 3=Sat 10-10 (调休),
		// 4=Mon 10-12, 5=Tue 10-13.
		{"on 国庆节, 5", "2026-10-01T10:00:00+08:00", 5, "2026-10-14T00:00:00+08:00"},
		{"on Sat holiday 10-03, 1", "2026-10-03T12:00:00+08:00", 1, "2026-10-09T00:00:00+08:00"},
		// Sun 2026-03-15: 1=Mon 16, 5=Fri 20.
		{"on Sunday, 1", "2026-03-15T10:00:00+08:00", 1, "2026-03-17T00:00:00+08:00"},
		{"on Sunday, 5", "2026-03-15T10:00:00+08:00", 5, "2026-03-21T00:00:00+08:00"},
		// Sat 2025-10-11 is an adjusted working day: it still does not count;
		// 1=Mon 2025-10-13.
		{"on 调休 Saturday, 1", "2025-10-11T10:00:00+08:00", 1, "2025-10-14T00:00:00+08:00"},
	})
}

func TestR2_CompanyOverrides(t *testing.T) {
	sh := shanghai(t)
	sat := Override{Date: Date{2026, time.March, 14}, Working: true, Note: "stocktaking Saturday"}
	wed := Override{Date: Date{2026, time.March, 11}, Working: false, Note: "company day off"}
	event := "2026-03-09T10:00:00+08:00" // Monday
	// Without overrides: Tue 10 .. Wed 18 -> Thu 19 (see the R2 example).
	// +Sat 14:   1=Tue 10, 2=Wed 11, 3=Thu 12, 4=Fri 13, 5=Sat 14, 6=Mon 16, 7=Tue 17.
	// -Wed 11:   1=Tue 10, 2=Thu 12, 3=Fri 13, 4=Mon 16, 5=Tue 17, 6=Wed 18, 7=Thu 19.
	// both:      1=Tue 10, 2=Thu 12, 3=Fri 13, 4=Sat 14, 5=Mon 16, 6=Tue 17, 7=Wed 18.
	for _, tc := range []struct {
		name string
		ov   []Override
		want string
	}{
		{"none", nil, "2026-03-19T00:00:00+08:00"},
		{"extra working Saturday", []Override{sat}, "2026-03-18T00:00:00+08:00"},
		{"extra day off Wednesday", []Override{wed}, "2026-03-20T00:00:00+08:00"},
		{"both", []Override{sat, wed}, "2026-03-19T00:00:00+08:00"},
	} {
		c := New(sh, tc.ov)
		checkDeadlines(t, c, []deadlineCase{{tc.name, event, 7, tc.want}})
	}

	// Overrides win over official data and over the weekday.
	c := New(sh, []Override{
		{Date: Date{2026, time.October, 5}, Working: true, Note: "on duty"}, // statutory holiday
		{Date: Date{2026, time.October, 10}, Working: false, Note: "no 调休"}, // adjusted working day
		sat, wed,
	})
	for _, w := range []Day{
		{Date{2026, time.October, 5}, true, Company, "on duty"},
		{Date{2026, time.October, 10}, false, Company, "no 调休"},
		{Date{2026, time.March, 14}, true, Company, "stocktaking Saturday"},
		{Date{2026, time.March, 11}, false, Company, "company day off"},
		{Date{2026, time.October, 6}, false, Statutory, "国庆节"}, // untouched neighbour
	} {
		if got := c.Day(w.Date); got != w {
			t.Errorf("Day(%s) = %+v, want %+v", w.Date, got, w)
		}
	}
	// Tue 09-29 event, 5 days: 1=Wed 30, 2=Mon 10-05 (override), 3=Thu 10-08,
	// 4=Fri 10-09, (Sat 10-10 removed), 5=Mon 10-12.
	checkDeadlines(t, c, []deadlineCase{{"overrides over official", "2026-09-29T10:00:00+08:00", 5, "2026-10-13T00:00:00+08:00"}})
}

func TestR2_OverridesSnapshot(t *testing.T) {
	in := []Override{
		{Date: Date{2026, time.May, 6}, Working: false, Note: "first"},
		{Date: Date{2026, time.March, 14}, Working: true, Note: "sat"},
		{Date: Date{2026, time.May, 6}, Working: true, Note: "second wins"},
		{Date: Date{2026, time.February, 30}, Working: false, Note: "normalized to 03-02"},
	}
	c := New(nil, in)
	if c.Location().String() != DefaultZone {
		t.Errorf("New(nil) zone = %v, want %s", c.Location(), DefaultZone)
	}
	want := []Override{
		{Date: Date{2026, time.March, 2}, Working: false, Note: "normalized to 03-02"},
		{Date: Date{2026, time.March, 14}, Working: true, Note: "sat"},
		{Date: Date{2026, time.May, 6}, Working: true, Note: "second wins"},
	}
	check := func(when string) {
		got := c.Overrides()
		if len(got) != len(want) {
			t.Fatalf("%s: Overrides() = %+v, want %+v", when, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: Overrides()[%d] = %+v, want %+v", when, i, got[i], want[i])
			}
		}
		if d := c.Day(Date{2026, time.May, 6}); !d.Working || d.Name != "second wins" {
			t.Errorf("%s: Day(2026-05-06) = %+v, want the later override", when, d)
		}
	}
	check("fresh")
	// The calendar is immutable: mutating the input or the returned slice
	// changes nothing.
	in[2].Note = "mutated"
	c.Overrides()[0].Working = true
	check("after mutation")
	// The snapshot rebuilds an identical calendar.
	c2 := New(c.Location(), c.Overrides())
	for _, d := range c.Days(Date{2026, 1, 1}, Date{2026, 12, 31}) {
		if c2.Day(d.Date) != d {
			t.Errorf("rebuilt calendar Day(%s) = %+v, want %+v", d.Date, c2.Day(d.Date), d)
		}
	}
}

// An instant given in UTC that is already the next day in Asia/Shanghai is
// counted from the Shanghai date; a calendar built for UTC uses UTC dates.
func TestR2_TimeZones(t *testing.T) {
	ev := "2026-03-09T17:30:00Z" // Mon 17:30 UTC = Tue 2026-03-10 01:30 +08:00
	// Shanghai: day of event is Tue 10; 1=Wed 11 -> Thu 12 00:00+08 (= Wed 11 16:00Z).
	//           7=Thu 19 -> Fri 20 00:00+08.
	checkDeadlines(t, New(shanghai(t), nil), []deadlineCase{
		{"UTC instant, Shanghai calendar, 1", ev, 1, "2026-03-11T16:00:00Z"},
		{"UTC instant, Shanghai calendar, 7", ev, 7, "2026-03-20T00:00:00+08:00"},
	})
	// UTC: day of event is Mon 09; 1=Tue 10 -> Wed 11 00:00Z. 7=Wed 18 -> Thu 19 00:00Z.
	checkDeadlines(t, New(time.UTC, nil), []deadlineCase{
		{"UTC calendar, 1", ev, 1, "2026-03-11T00:00:00Z"},
		{"UTC calendar, 7", ev, 7, "2026-03-19T00:00:00Z"},
		// Holidays are still taken by date: Wed 2026-09-30 20:00Z is Oct 1 in
		// Shanghai but Sep 30 in UTC; 1=Thu 10-08 either way, but the UTC
		// deadline is 10-09 00:00Z, eight hours later than Shanghai's.
		{"UTC calendar, National Day", "2026-09-30T20:00:00Z", 1, "2026-10-09T00:00:00Z"},
	})
	checkDeadlines(t, New(shanghai(t), nil), []deadlineCase{
		{"Shanghai calendar, National Day", "2026-09-30T20:00:00Z", 1, "2026-10-08T16:00:00Z"},
	})
}

func TestR2_AddWorkingDaysPanicsBelowOne(t *testing.T) {
	c := New(nil, nil)
	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddWorkingDays(n=%d) did not panic", n)
				}
			}()
			c.AddWorkingDays(instant(t, "2026-03-09T10:00:00+08:00"), n)
		}()
	}
}

func TestR2_DaysRange(t *testing.T) {
	c := New(nil, nil)
	if got := c.Days(Date{2026, 3, 2}, Date{2026, 3, 1}); len(got) != 0 {
		t.Errorf("reversed range = %d days, want 0", len(got))
	}
	got := c.Days(Date{2026, 1, 1}, Date{2026, 12, 31})
	if len(got) != 365 {
		t.Fatalf("2026 has %d days, want 365", len(got))
	}
	if got[0].Date != (Date{2026, 1, 1}) || got[364].Date != (Date{2026, 12, 31}) {
		t.Errorf("2026 runs from %v to %v, want 2026-01-01..2026-12-31", got[0].Date, got[364].Date)
	}
	// The Date of a Day is always normalized.
	if got := c.Day(Date{2026, 2, 29}); got.Date != (Date{2026, 3, 1}) {
		t.Errorf("Day(2026-02-29).Date = %v, want 2026-03-01", got.Date)
	}
}

func BenchmarkR2_Day(b *testing.B) {
	c := New(nil, []Override{{Date: Date{2026, 3, 14}, Working: true}})
	d := Date{2026, 10, 1}
	for b.Loop() {
		c.Day(d)
	}
}
