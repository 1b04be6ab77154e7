package calendar

import (
	"testing"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// The State Council notices for 2025 and 2026, typed in by hand from the
// notices (not from lunar-go). These tests are the truth for R2; the shipped
// data must agree with them.
type notice struct {
	name     string    // festival name as lunar-go spells it
	off      [2]string // statutory days off, inclusive
	adjusted []string  // 调休 working weekend days
}

var notices = map[int][]notice{
	2025: {
		{"元旦节", [2]string{"2025-01-01", "2025-01-01"}, nil},
		{"春节", [2]string{"2025-01-28", "2025-02-04"}, []string{"2025-01-26", "2025-02-08"}},
		{"清明节", [2]string{"2025-04-04", "2025-04-06"}, nil},
		{"劳动节", [2]string{"2025-05-01", "2025-05-05"}, []string{"2025-04-27"}},
		{"端午节", [2]string{"2025-05-31", "2025-06-02"}, nil},
		{"国庆中秋", [2]string{"2025-10-01", "2025-10-08"}, []string{"2025-09-28", "2025-10-11"}},
	},
	2026: {
		{"元旦节", [2]string{"2026-01-01", "2026-01-03"}, []string{"2026-01-04"}},
		{"春节", [2]string{"2026-02-15", "2026-02-23"}, []string{"2026-02-14", "2026-02-28"}},
		{"清明节", [2]string{"2026-04-04", "2026-04-06"}, nil},
		{"劳动节", [2]string{"2026-05-01", "2026-05-05"}, []string{"2026-05-09"}},
		{"端午节", [2]string{"2026-06-19", "2026-06-21"}, nil},
		{"中秋节", [2]string{"2026-09-25", "2026-09-27"}, nil},
		{"国庆节", [2]string{"2026-10-01", "2026-10-07"}, []string{"2026-09-20", "2026-10-10"}},
	},
}

// Every date of 2025 and 2026 is classified exactly as the notices say: the
// listed days off are statutory, the listed working weekends are adjusted,
// and every other date is a plain weekday or weekend (so the shipped data has
// neither missing nor extra entries for these years).
func TestR2_OfficialNotices2025And2026(t *testing.T) {
	c := New(nil, nil)
	for _, year := range []int{2025, 2026} {
		want := map[Date]Day{}
		for _, n := range notices[year] {
			for d := mustDate(t, n.off[0]); !d.After(mustDate(t, n.off[1])); d = d.AddDays(1) {
				want[d] = Day{Date: d, Working: false, Source: Statutory, Name: n.name}
			}
			for _, s := range n.adjusted {
				d := mustDate(t, s)
				if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
					t.Fatalf("test data: adjusted day %s is a %v, not a weekend", d, wd)
				}
				want[d] = Day{Date: d, Working: true, Source: Adjusted, Name: n.name}
			}
		}
		stat, adj := 0, 0
		for _, got := range c.Days(Date{year, 1, 1}, Date{year, 12, 31}) {
			w, ok := want[got.Date]
			if !ok {
				w = Day{Date: got.Date, Working: true, Source: Weekday}
				if wd := got.Date.Weekday(); wd == time.Saturday || wd == time.Sunday {
					w = Day{Date: got.Date, Working: false, Source: Weekend}
				}
			}
			if got != w {
				t.Errorf("R2 %d: Day(%s) = %+v, want %+v", year, got.Date, got, w)
			}
			switch got.Source {
			case Statutory:
				stat++
			case Adjusted:
				adj++
			}
		}
		// Totals as a second, independent check of the typed-in notices.
		wantStat, wantAdj := map[int]int{2025: 28, 2026: 33}[year], map[int]int{2025: 5, 2026: 6}[year]
		if stat != wantStat || adj != wantAdj {
			t.Errorf("R2 %d: %d statutory and %d adjusted days, want %d and %d", year, stat, adj, wantStat, wantAdj)
		}
	}
}

func TestR2_OfficialYears(t *testing.T) {
	first, last := OfficialYears()
	if first > 2025 || last < 2026 || first > last {
		t.Errorf("OfficialYears() = %d..%d, must cover 2025..2026", first, last)
	}
	// lunar-go v1.4.6 ships the notices for 2002 (its first entry is the
	// 2001-12-29 working day for New Year 2002) through 2026. Update this
	// when lunar-go is upgraded.
	if first != 2002 || last != 2026 {
		t.Errorf("OfficialYears() = %d..%d, want 2002..2026 for lunar-go v1.4.6", first, last)
	}
}

// The table built at init agrees with lunar-go's own per-day lookup for
// every date of the covered years (guards the bulk GetHolidaysByYear load).
func TestR2_OfficialTableMatchesLunarGo(t *testing.T) {
	first, last := OfficialYears()
	c := New(nil, nil)
	entries := 0
	for _, got := range c.Days(Date{first - 1, 1, 1}, Date{last + 1, 12, 31}) {
		d := got.Date
		h := HolidayUtil.GetHolidayByYmd(d.Year, int(d.Month), d.Day)
		if h == nil {
			if got.Source != Weekday && got.Source != Weekend {
				t.Errorf("Day(%s) = %+v, but lunar-go has no entry", d, got)
			}
			continue
		}
		entries++
		want := Day{Date: d, Working: h.IsWork(), Source: Statutory, Name: h.GetName()}
		if h.IsWork() {
			want.Source = Adjusted
		}
		if got != want || h.GetDay() != d.String() {
			t.Errorf("Day(%s) = %+v, lunar-go says %v", d, got, h)
		}
	}
	if entries != len(officialDays) {
		t.Errorf("lunar-go has %d dated entries in %d..%d, table has %d", entries, first-1, last+1, len(officialDays))
	}
}
