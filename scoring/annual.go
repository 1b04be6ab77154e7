package scoring

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Year is one employee's twelve monthly final scores of a year, January
// first. A nil entry is a month without a result (R4.4), which is not a zero.
// Keeping the calendar position (rather than a shorter slice) is what makes
// "three consecutive months" and "every month" well defined.
type Year [12]*Tenths

// Grade is the R4.6 annual grade.
type Grade string

const (
	GradeExcellent Grade = "excellent"
	GradeGood      Grade = "good"
	GradePass      Grade = "pass"
	GradeFailing   Grade = "failing"
)

// Policy holds the R4.6 percentages, in whole percent of the cohort.
type Policy struct {
	ExcellentPercent int `json:"excellent_percent"` // top share that may be excellent (10)
	GoodPercent      int `json:"good_percent"`      // the next share that may be good (30)
	FailingPercent   int `json:"failing_percent"`   // bottom share that fails (10)
}

// DefaultPolicy is R4.6: top 10%, next 30%, bottom 10%.
func DefaultPolicy() Policy { return Policy{ExcellentPercent: 10, GoodPercent: 30, FailingPercent: 10} }

// ErrInvalidAnnual is wrapped by every validation error of Annual.
var ErrInvalidAnnual = errors.New("scoring: invalid annual input")

// Validate checks that the percentages are 0..100 and top plus next <= 100.
func (p Policy) Validate() error {
	if p.ExcellentPercent < 0 || p.GoodPercent < 0 || p.FailingPercent < 0 ||
		p.FailingPercent > 100 || p.ExcellentPercent+p.GoodPercent > 100 {
		return fmt.Errorf("%w: policy %+v: percentages must be 0..100 and excellent+good <= 100", ErrInvalidAnnual, p)
	}
	return nil
}

// AnnualResult is one employee's R4.6 outcome.
type AnnualResult struct {
	Total      Tenths `json:"total"`       // sum of the monthly scores that exist
	Months     int    `json:"months"`      // months with a result
	Rank       int    `json:"rank"`        // 1 = best total; equal totals share the better rank
	CohortSize int    `json:"cohort_size"` // employees ranked
	Grade      Grade  `json:"grade"`
	Reason     string `json:"reason"` // why, in words, for HR and the employee
}

// Annual grades a cohort (employee id -> Year) by R4.6.
//
// Decisions:
//   - Total is the sum of the monthly scores that exist; a missing month adds
//     nothing (it is not a score, so it is not averaged over either).
//   - The cohort is every employee with at least one monthly result; an
//     employee with no result in the whole year gets no annual result (left
//     out of the answer and of the cohort size n), as a month without data
//     gets no monthly result.
//   - Rank: 1 + the number of employees with a strictly higher total, so
//     equal totals share the better rank (competition ranking 1, 1, 3).
//   - "Top p%": rank r of n is in the top p% when r/n <= p%, tested exactly
//     as r x 100 <= n x p. So the count is floor(n x p%) plus anyone tied with
//     the last one in; rank 1 of 5 is the top 20%, not the top 10%, so in a
//     cohort under 10 nobody is in the top (or bottom) 10%. Rounding up
//     instead would make the single worst of 5 fail by rank; R4.6 is meant
//     for the whole company's cohort, where this does not bite.
//   - "Bottom p%" mirrors it: the employee's place from the bottom is the
//     number of employees with a total <= theirs (n - r + 1, ties again
//     taking the better place, i.e. further from the bottom), in the bottom
//     p% when that x 100 <= n x p. Tied employees straddling the cut all
//     escape it: the rule cannot say which of equal totals is worse.
//   - Excellent: top ExcellentPercent and every one of the twelve months
//     >= 80.0; a missing month is not >= 80.
//   - Good: within the top ExcellentPercent+GoodPercent (so someone in the
//     top 10% who misses excellent's monthly condition is considered for
//     good, not dropped to pass) and at least 9 months >= 70.0 (missing months
//     do not count).
//   - Failing: bottom FailingPercent, or three consecutive calendar months
//     each with a result < 60.0. A missing month breaks the run (no result is
//     not below 60), and the run does not reach into another year.
//   - Precedence: failing > excellent > good > pass; failing wins even for
//     the top-ranked.
//   - Monthly scores must be 0.0..100.0; anything else is an error wrapping
//     ErrInvalidAnnual, as is an invalid Policy.
func Annual(cohort map[string]Year, p Policy) (map[string]AnnualResult, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(cohort))
	// Only the keys are collected here, then sorted: nothing depends on map
	// order, so workflow code may call Annual.
	//workflowcheck:ignore
	for id := range cohort {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deterministic error order and processing

	type entry struct {
		id     string
		months int
		total  Tenths
	}
	var ranked []entry
	var errs []error
	for _, id := range ids {
		e := entry{id: id}
		for i, s := range cohort[id] {
			if s == nil {
				continue
			}
			if *s < 0 || *s > 1000 {
				errs = append(errs, fmt.Errorf("%w: %s %s score %s, want 0.0..100.0", ErrInvalidAnnual, id, time.Month(i+1), *s))
				continue
			}
			e.months++
			e.total += *s
		}
		if e.months > 0 {
			ranked = append(ranked, e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].total > ranked[j].total })
	n := len(ranked)
	out := make(map[string]AnnualResult, n)
	rank := 0
	for i, e := range ranked {
		if i == 0 || e.total != ranked[i-1].total {
			rank = i + 1 // equal totals keep the better rank
		}
		res := AnnualResult{Total: e.total, Months: e.months, Rank: rank, CohortSize: n}
		res.Grade, res.Reason = grade(cohort[e.id], rank, n, p)
		out[e.id] = res
	}
	return out, nil
}

// within reports whether place (1 = first) of n lies in the first pct percent.
func within(place, n, pct int) bool { return int64(place)*100 <= int64(n)*int64(pct) }

func grade(y Year, rank, n int, p Policy) (Grade, string) {
	of := fmt.Sprintf("rank %d of %d", rank, n)
	top := within(rank, n, p.ExcellentPercent)
	upper := within(rank, n, p.ExcellentPercent+p.GoodPercent)
	bottom := within(n-rank+1, n, p.FailingPercent)

	// Failing first: it wins over everything (R4.6 "unless failing").
	lowRun := -1
	for i := 0; i+2 < len(y) && lowRun < 0; i++ {
		if below(y[i], 600) && below(y[i+1], 600) && below(y[i+2], 600) {
			lowRun = i
		}
	}
	if bottom || lowRun >= 0 {
		var why []string
		if bottom {
			why = append(why, fmt.Sprintf("bottom %d%% (%s)", p.FailingPercent, of))
		}
		if lowRun >= 0 {
			why = append(why, fmt.Sprintf("three consecutive months below 60 (%s to %s)",
				time.Month(lowRun+1), time.Month(lowRun+3)))
		}
		reason := strings.Join(why, " and ")
		if upper && !bottom {
			reason += fmt.Sprintf("; failing takes precedence over the top %d%% (%s)", topLabel(top, p), of)
		}
		return GradeFailing, reason
	}

	var why []string
	if top {
		missed := ""
		for i, s := range y {
			if s == nil {
				missed = fmt.Sprintf("%s has no result", time.Month(i+1))
				break
			}
			if *s < 800 {
				missed = fmt.Sprintf("%s is %s", time.Month(i+1), *s)
				break
			}
		}
		if missed == "" {
			return GradeExcellent, fmt.Sprintf("top %d%% (%s) and every month >= 80", p.ExcellentPercent, of)
		}
		why = append(why, fmt.Sprintf("top %d%% (%s) but not every month >= 80: %s", p.ExcellentPercent, of, missed))
	}
	if upper {
		atLeast70 := 0
		for _, s := range y {
			if s != nil && *s >= 700 {
				atLeast70++
			}
		}
		if atLeast70 >= 9 {
			why = append(why, fmt.Sprintf("top %d%% (%s) and %d months >= 70", p.ExcellentPercent+p.GoodPercent, of, atLeast70))
			return GradeGood, strings.Join(why, "; ")
		}
		why = append(why, fmt.Sprintf("top %d%% (%s) but only %d months >= 70, 9 needed", p.ExcellentPercent+p.GoodPercent, of, atLeast70))
	} else {
		why = append(why, fmt.Sprintf("%s, outside the top %d%%", of, p.ExcellentPercent+p.GoodPercent))
	}
	return GradePass, strings.Join(why, "; ")
}

func topLabel(top bool, p Policy) int {
	if top {
		return p.ExcellentPercent
	}
	return p.ExcellentPercent + p.GoodPercent
}

// below reports a month with a result under the limit; no result is not below.
func below(s *Tenths, limit Tenths) bool { return s != nil && *s < limit }
