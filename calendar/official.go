package calendar

import (
	"fmt"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// official is one entry of the State Council holiday notices as shipped by
// lunar-go: a statutory day off (work == false) or an adjusted working day
// 调休 (work == true).
type official struct {
	name string
	work bool
}

// The official data is copied out of lunar-go once, at package
// initialisation, and only read afterwards. At init rather than lazily
// because lunar-go keeps its table in a mutable package variable
// (HolidayUtil.Fix rewrites it): a snapshot taken before any program code
// runs cannot depend on when the first Day() call happens.
var officialDays, officialFirst, officialLast = loadOfficial()

// Years scanned for data. lunar-go's data starts with the 2002 notice; the
// wide window only costs ~1ms at init and means a future lunar-go release
// needs no change here.
const scanFrom, scanTo = 1990, 2199

func loadOfficial() (days map[Date]official, first, last int) {
	days = make(map[Date]official, 1024)
	for y := scanFrom; y <= scanTo; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			d := mustParse(h.GetDay())
			// Coverage is counted by the year of the festival an entry
			// belongs to (its target), i.e. by notice: the 2002 notice's
			// 2001-12-29 working day makes 2002 covered, not 2001.
			t := mustParse(h.GetTarget()).Year
			if first == 0 || t < first {
				first = t
			}
			if t > last {
				last = t
			}
			// Keep the first entry for a date, as HolidayUtil.GetHoliday does.
			if _, dup := days[d]; !dup {
				days[d] = official{name: h.GetName(), work: h.IsWork()}
			}
		}
	}
	if len(days) == 0 {
		panic("calendar: lunar-go HolidayUtil returned no official holiday data")
	}
	return days, first, last
}

func mustParse(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(fmt.Sprintf("calendar: bad date in lunar-go holiday data: %v", err))
	}
	return d
}

// OfficialYears returns the first and last year whose State Council holiday
// notice is in the shipped official data (derived from lunar-go; 2002..2026
// for lunar-go v1.4.6). Outside these years Day() only knows weekdays,
// weekends and company overrides, so callers should check a deadline's year
// against this range and alert when a new notice must be shipped.
func OfficialYears() (first, last int) {
	return officialFirst, officialLast
}
