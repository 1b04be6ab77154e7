package scoring

import (
	"errors"
	"fmt"
	"math/big"
)

// Ratings is one satisfaction survey (R4.1): each dimension 1 (very
// dissatisfied) .. 5 (very satisfied).
type Ratings struct {
	Attitude int `json:"attitude"`
	Speed    int `json:"speed"`
	Quality  int `json:"quality"`
	Parts    int `json:"parts"`
	Cost     int `json:"cost"`
}

// Hundredths is the survey score of R4.1 in hundredths: sum(rating x
// weight%), 100 (all 1) .. 500 (all 5). Exact: the weights are whole percent.
func (r Ratings) Hundredths() int64 {
	return int64(weightAttitude*r.Attitude + weightSpeed*r.Speed + weightQuality*r.Quality +
		weightParts*r.Parts + weightCost*r.Cost)
}

// Score is the survey score of R4.1, 1..5, for the read model (two decimals).
func (r Ratings) Score() float64 { return float64(r.Hundredths()) / 100 }

// Invalid reports the first rating out of 1..5, by its JSON name.
func (r Ratings) Invalid() (field string, bad bool) {
	for _, d := range r.dimensions() {
		if d.rating < 1 || d.rating > 5 {
			return d.name, true
		}
	}
	return "", false
}

type dimension struct {
	name   string
	rating int
}

func (r Ratings) dimensions() []dimension {
	return []dimension{{"attitude", r.Attitude}, {"speed", r.Speed}, {"quality", r.Quality}, {"parts", r.Parts}, {"cost", r.Cost}}
}

// Month is one employee's items of one month, already selected by the month
// rules of R4.0 (survey by surveyed_at, work order by completed_at, complaint
// by the due_at of its first missed clock or else its resolution, deduction
// by occurred_at).
type Month struct {
	Surveys          []Ratings `json:"surveys"`
	WorkOrders       int       `json:"work_orders"`       // all work orders of the month (R4.2)
	FirstTimeFixes   int       `json:"first_time_fixes"`  // of those, fixed at the first repair
	Complaints       int       `json:"complaints"`        // valid complaints counted this month (R4.3, R3)
	TimelyComplaints int       `json:"timely_complaints"` // of those, all three clocks met
	Deductions       []int     `json:"deductions"`        // points of each CONFIRMED deduction (R4.4)
}

// Band is the R4.4 band of a monthly score.
type Band string

const (
	BandExcellent Band = "excellent" // >= 90
	BandGood      Band = "good"      // 80 - 89.9
	BandFair      Band = "fair"      // 70 - 79.9
	BandPoor      Band = "poor"      // 60 - 69.9: immediate correction (R4.4)
	BandFailing   Band = "failing"   // < 60
)

// Result is one employee's monthly CSI result (R4.4).
type Result struct {
	// The indicators, rounded half-up to one decimal for display only; nil
	// (JSON null) when the indicator had no data this month.
	CSAT       *Tenths `json:"csat"`
	FTFR       *Tenths `json:"ftfr"`
	Timeliness *Tenths `json:"timeliness"`
	// DeductionPoints is the sum of the confirmed deductions' points,
	// DeductionCount how many there were.
	DeductionPoints int `json:"deduction_points"`
	DeductionCount  int `json:"deduction_count"`
	// Score is the final CSI score, 0.0 .. 100.0, rounded once (R4.4).
	Score Tenths `json:"score"`
	Band  Band   `json:"band"`
	// SeriousWarning: two or more confirmed deductions this month (R4.4).
	SeriousWarning bool `json:"serious_warning"`
}

// The R4.4 weights 0.7 / 0.2 / 0.1, as integers in tenths so that scaling
// the present ones up in proportion is an exact division by their sum
// (no work orders: 7/8 = 0.875 and 1/8 = 0.125).
const (
	weightCSAT       = 7
	weightFTFR       = 2
	weightTimeliness = 1
)

// The R4.1 dimension weights in percent; they add up to 100.
const (
	weightAttitude = 20
	weightSpeed    = 15
	weightQuality  = 25
	weightParts    = 15
	weightCost     = 25
)

// maxDeductionPoints bounds one deduction: R4.4's largest is 50, and anything
// above 100 (the whole score) is surely a unit mistake by the caller.
const maxDeductionPoints = 100

// ErrInvalidMonth is wrapped by every validation error of Month.
var ErrInvalidMonth = errors.New("scoring: invalid month")

// Validate reports every problem of m, each wrapping ErrInvalidMonth, joined
// in a fixed order (surveys, work orders, complaints, deductions).
func (m Month) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidMonth}, args...)...))
	}
	for i, s := range m.Surveys {
		for _, d := range s.dimensions() {
			if d.rating < 1 || d.rating > 5 {
				bad("surveys[%d].%s = %d, want 1..5 (R4.1)", i, d.name, d.rating)
			}
		}
	}
	if m.WorkOrders < 0 {
		bad("work_orders = %d, want >= 0", m.WorkOrders)
	}
	if m.FirstTimeFixes < 0 || m.FirstTimeFixes > max(m.WorkOrders, 0) {
		bad("first_time_fixes = %d, want 0..work_orders (%d) (R4.2)", m.FirstTimeFixes, m.WorkOrders)
	}
	if m.Complaints < 0 {
		bad("complaints = %d, want >= 0", m.Complaints)
	}
	if m.TimelyComplaints < 0 || m.TimelyComplaints > max(m.Complaints, 0) {
		bad("timely_complaints = %d, want 0..complaints (%d) (R3)", m.TimelyComplaints, m.Complaints)
	}
	for i, p := range m.Deductions {
		if p < 1 || p > maxDeductionPoints {
			bad("deductions[%d] = %d points, want 1..%d (R4.4)", i, p, maxDeductionPoints)
		}
	}
	return errors.Join(errs...)
}

// SeriousWarning reports whether the month's confirmed deductions call for a
// serious warning (two or more, R4.4). It holds even in a month without a
// result, where Score returns nil.
func (m Month) SeriousWarning() bool { return len(m.Deductions) >= 2 }

// Score computes the month's CSI result (R4.1-R4.4). It returns (nil, nil)
// when no indicator has data (zero surveys, work orders and complaints):
// no result that month, which is not a score of 0. Invalid input is an error
// wrapping ErrInvalidMonth.
func Score(m Month) (*Result, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	res := &Result{DeductionCount: len(m.Deductions)}
	for _, p := range m.Deductions {
		res.DeductionPoints += p
	}

	weighted := new(big.Rat) // sum of weight x exact indicator
	var weights int64        // sum of the weights of indicators with data
	use := func(exact *big.Rat, weight int64) *Tenths {
		weighted.Add(weighted, new(big.Rat).Mul(exact, big.NewRat(weight, 1)))
		weights += weight
		shown := RoundHalfUp(exact) // display only (R4.4: round once, the score)
		return &shown
	}

	// R4.1: survey score = sum(rating x weight%) / 100 (1..5); CSAT = mean / 5 x 100.
	// With S = sum(rating x weight%) per survey, CSAT = sum(S) / (5 x n) exactly.
	if n := len(m.Surveys); n > 0 {
		var sum int64
		for _, s := range m.Surveys {
			sum += s.Hundredths()
		}
		res.CSAT = use(big.NewRat(sum, 5*int64(n)), weightCSAT)
	}
	// R4.2: FTFR = first-time fixes / work orders x 100.
	if m.WorkOrders > 0 {
		res.FTFR = use(percent(m.FirstTimeFixes, m.WorkOrders), weightFTFR)
	}
	// R4.3 (R3): timeliness = timely complaints / valid complaints x 100.
	if m.Complaints > 0 {
		res.Timeliness = use(percent(m.TimelyComplaints, m.Complaints), weightTimeliness)
	}
	if weights == 0 {
		return nil, nil // R4.4: no data in any indicator, no result.
	}

	// R4.4: indicators without data are left out and the others' weights
	// scaled up in proportion: divide by the sum of the present weights.
	exact := weighted.Quo(weighted, big.NewRat(weights, 1))
	if res.DeductionCount >= 2 {
		// R4.4: two or more confirmed deductions: score 0 and a serious warning.
		exact.SetInt64(0)
		res.SeriousWarning = true
	} else {
		// R4.4: confirmed deductions come off the exact score, not below 0;
		// the single rounding below stays the last step.
		exact.Sub(exact, big.NewRat(int64(res.DeductionPoints), 1))
		if exact.Sign() < 0 {
			exact.SetInt64(0)
		}
	}
	res.Score = RoundHalfUp(exact) // R4.4: half-up to one decimal, once.
	res.Band = BandOf(res.Score)   // from the rounded score: 89.95 -> 90.0 -> excellent
	return res, nil
}

func percent(part, whole int) *big.Rat {
	r := new(big.Rat).SetFrac(big.NewInt(int64(part)), big.NewInt(int64(whole)))
	return r.Mul(r, big.NewRat(100, 1))
}

// BandOf is the R4.4 band of a (rounded) score. "80-89" in the rule book
// means 80.0 up to 89.9: every band runs up to the next band's lower edge.
func BandOf(score Tenths) Band {
	switch {
	case score >= 900:
		return BandExcellent
	case score >= 800:
		return BandGood
	case score >= 700:
		return BandFair
	case score >= 600:
		return BandPoor
	default:
		return BandFailing
	}
}

// Probation reports whether the current month completes two consecutive
// months with score 0 (R4.4: three months of probation follow). A nil result
// is a month without a result, which is not a zero and breaks the chain.
// It compares the published (rounded) scores.
func Probation(previous, current *Result) bool {
	return previous != nil && current != nil && previous.Score == 0 && current.Score == 0
}
