package scoring

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Survey sets used below, with the R4.1 arithmetic
// (survey score = attitude x0.20 + speed x0.15 + quality x0.25 + parts x0.15 + cost x0.25):
//
// setA:
//
//	(5,5,5,5,5): 1.00 + 0.75 + 1.25 + 0.75 + 1.25 = 5.00
//	(4,4,4,4,4): 0.80 + 0.60 + 1.00 + 0.60 + 1.00 = 4.00
//	(5,4,3,4,5): 1.00 + 0.60 + 0.75 + 0.60 + 1.25 = 4.20
//	mean = 13.20 / 3 = 4.40; CSAT = 4.40 / 5 x 100 = 88.0
//
// setB:
//
//	(4,4,5,4,4): 0.80 + 0.60 + 1.25 + 0.60 + 1.00 = 4.25
//	(4,3,5,4,4): 0.80 + 0.45 + 1.25 + 0.60 + 1.00 = 4.10
//	mean = 8.35 / 2 = 4.175; CSAT = 4.175 / 5 x 100 = 83.5
//
// setC:
//
//	(5,5,3,5,5): 1.00 + 0.75 + 0.75 + 0.75 + 1.25 = 4.50; CSAT = 90.0
var (
	setA = []Ratings{{5, 5, 5, 5, 5}, {4, 4, 4, 4, 4}, {5, 4, 3, 4, 5}}
	setB = []Ratings{{4, 4, 5, 4, 4}, {4, 3, 5, 4, 4}}
	setC = []Ratings{{5, 5, 3, 5, 5}}
	all5 = []Ratings{{5, 5, 5, 5, 5}}
)

type want struct {
	csat, ftfr, timeliness string // "" = no data
	points, count          int
	score                  string
	band                   Band
	warning                bool
}

func TestScore_R44(t *testing.T) {
	cases := []struct {
		name string
		m    Month
		want *want // nil = no result
	}{
		{
			// CSAT 88.0; FTFR 8/10 = 80.0; timeliness 3/4 = 75.0.
			// 0.7 x 88 + 0.2 x 80 + 0.1 x 75 = 61.6 + 16.0 + 7.5 = 85.1 -> good.
			name: "R4.4 plain month",
			m:    Month{Surveys: setA, WorkOrders: 10, FirstTimeFixes: 8, Complaints: 4, TimelyComplaints: 3},
			want: &want{csat: "88.0", ftfr: "80.0", timeliness: "75.0", score: "85.1", band: BandGood},
		},
		{
			// R4.4 no work orders: weights 7:1 -> 0.875 and 0.125.
			// 0.875 x 88 + 0.125 x 75 = 77.0 + 9.375 = 86.375 -> 86.4.
			name: "R4.4 no work orders scales to 0.875/0.125",
			m:    Month{Surveys: setA, Complaints: 4, TimelyComplaints: 3},
			want: &want{csat: "88.0", timeliness: "75.0", score: "86.4", band: BandGood},
		},
		{
			// Only CSAT: its weight scales to 1. Score = 88.0.
			name: "R4.4 only surveys",
			m:    Month{Surveys: setA},
			want: &want{csat: "88.0", score: "88.0", band: BandGood},
		},
		{
			// No surveys: weights 2:1 -> 2/3 and 1/3. (2 x 80 + 75) / 3 = 235 / 3 = 78.333... -> 78.3.
			name: "R4.4 no surveys scales to 2/3 and 1/3",
			m:    Month{WorkOrders: 10, FirstTimeFixes: 8, Complaints: 4, TimelyComplaints: 3},
			want: &want{ftfr: "80.0", timeliness: "75.0", score: "78.3", band: BandFair},
		},
		{
			// No complaints: weights 7:2 -> 7/9 and 2/9. (7 x 88 + 2 x 80) / 9 = 776 / 9 = 86.222... -> 86.2.
			name: "R4.4 no complaints scales to 7/9 and 2/9",
			m:    Month{Surveys: setA, WorkOrders: 10, FirstTimeFixes: 8},
			want: &want{csat: "88.0", ftfr: "80.0", score: "86.2", band: BandGood},
		},
		{
			// Only timeliness 3/4 = 75.0.
			name: "R4.4 only complaints",
			m:    Month{Complaints: 4, TimelyComplaints: 3},
			want: &want{timeliness: "75.0", score: "75.0", band: BandFair},
		},
		{
			name: "R4.4 no data at all gives no result",
			m:    Month{},
			want: nil,
		},
		{
			// Decision: deductions do not invent a result in a month without data.
			name: "R4.4 deductions without any data give no result",
			m:    Month{Deductions: []int{20, 50}},
			want: nil,
		},
		{
			// 85.1 (plain month) - 20 = 65.1 -> poor.
			name: "R4.4 one confirmed deduction of 20",
			m:    Month{Surveys: setA, WorkOrders: 10, FirstTimeFixes: 8, Complaints: 4, TimelyComplaints: 3, Deductions: []int{20}},
			want: &want{csat: "88.0", ftfr: "80.0", timeliness: "75.0", points: 20, count: 1, score: "65.1", band: BandPoor},
		},
		{
			// Timeliness 1/4 = 25.0 is the score; 25.0 - 50 = -25 -> floored at 0.0. One deduction: no warning.
			name: "R4.4 deduction larger than the score floors at 0",
			m:    Month{Complaints: 4, TimelyComplaints: 1, Deductions: []int{50}},
			want: &want{timeliness: "25.0", points: 50, count: 1, score: "0.0", band: BandFailing},
		},
		{
			// Would be 85.1 - 40 = 45.1, but two confirmed deductions: 0 and a serious warning.
			name: "R4.4 two confirmed deductions give 0 and a serious warning",
			m:    Month{Surveys: setA, WorkOrders: 10, FirstTimeFixes: 8, Complaints: 4, TimelyComplaints: 3, Deductions: []int{20, 20}},
			want: &want{csat: "88.0", ftfr: "80.0", timeliness: "75.0", points: 40, count: 2, score: "0.0", band: BandFailing, warning: true},
		},
		{
			// CSAT 100.0 (all fives); three deductions: still 0 and a serious warning.
			name: "R4.4 three confirmed deductions on a perfect month",
			m:    Month{Surveys: all5, Deductions: []int{20, 50, 20}},
			want: &want{csat: "100.0", points: 90, count: 3, score: "0.0", band: BandFailing, warning: true},
		},
		{
			// CSAT 83.5; FTFR 8/10 = 80.0; timeliness 2/2 = 100.0.
			// 0.7 x 83.5 + 0.2 x 80 + 0.1 x 100 = 58.45 + 16.0 + 10.0 = 84.45 exactly -> half-up 84.5.
			// (float64 gives 84.449999999999989 -> 84.4; see TestScore_R44_ExactnessMatters.)
			name: "R4.4 exact tie 84.45 rounds half-up to 84.5",
			m:    Month{Surveys: setB, WorkOrders: 10, FirstTimeFixes: 8, Complaints: 2, TimelyComplaints: 2},
			want: &want{csat: "83.5", ftfr: "80.0", timeliness: "100.0", score: "84.5", band: BandGood},
		},
		{
			// Same month with one deduction of 20: 84.45 - 20 = 64.45 exactly -> 64.5 (one rounding, after the deduction).
			name: "R4.4 deduction then a single rounding of the tie",
			m:    Month{Surveys: setB, WorkOrders: 10, FirstTimeFixes: 8, Complaints: 2, TimelyComplaints: 2, Deductions: []int{20}},
			want: &want{csat: "83.5", ftfr: "80.0", timeliness: "100.0", points: 20, count: 1, score: "64.5", band: BandPoor},
		},
		{
			// CSAT 83.5; FTFR 1/3 = 33.333...; timeliness 1/3 = 33.333...
			// exact: 58.45 + 0.2 x 100/3 + 0.1 x 100/3 = 58.45 + 20/3 + 10/3 = 58.45 + 10 = 68.45 -> 68.5 (poor).
			// The displayed indicators are 33.3 and 33.3; feeding those would give
			// 58.45 + 6.66 + 3.33 = 68.44 -> 68.4: display rounding must not feed the score.
			name: "R4.4 display rounding of indicators does not feed the score",
			m:    Month{Surveys: setB, WorkOrders: 3, FirstTimeFixes: 1, Complaints: 3, TimelyComplaints: 1},
			want: &want{csat: "83.5", ftfr: "33.3", timeliness: "33.3", score: "68.5", band: BandPoor},
		},
		{
			// Just under a tie: CSAT 83.5, FTFR 2/7 = 28.571428..., timeliness 2/3 = 66.666...
			// 58.45 + 0.2 x 200/7 + 0.1 x 200/3 = 58.45 + 40/7 + 20/3
			//   = 58.45 + 5.714285... + 6.666666... = 70.830952... -> 70.8 (fair).
			name: "R4.4 sevenths and thirds round down",
			m:    Month{Surveys: setB, WorkOrders: 7, FirstTimeFixes: 2, Complaints: 3, TimelyComplaints: 2},
			want: &want{csat: "83.5", ftfr: "28.6", timeliness: "66.7", score: "70.8", band: BandFair},
		},
		{
			// CSAT 90.0; FTFR 91/100 = 91.0; timeliness 7/8 = 87.5.
			// 0.7 x 90 + 0.2 x 91 + 0.1 x 87.5 = 63.0 + 18.2 + 8.75 = 89.95 -> 90.0.
			// The band comes from the rounded score: excellent, not good.
			name: "R4.4 exact 89.95 rounds to 90.0 and is excellent",
			m:    Month{Surveys: setC, WorkOrders: 100, FirstTimeFixes: 91, Complaints: 8, TimelyComplaints: 7},
			want: &want{csat: "90.0", ftfr: "91.0", timeliness: "87.5", score: "90.0", band: BandExcellent},
		},
		{
			// All ones: survey score 1.00, CSAT 20.0; FTFR 0/5 = 0.0; timeliness 0/1 = 0.0.
			// 0.7 x 20 = 14.0 -> failing.
			name: "R4.1 lowest ratings and zero rates",
			m:    Month{Surveys: []Ratings{{1, 1, 1, 1, 1}}, WorkOrders: 5, Complaints: 1},
			want: &want{csat: "20.0", ftfr: "0.0", timeliness: "0.0", score: "14.0", band: BandFailing},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Score(c.m)
			if err != nil {
				t.Fatalf("Score: %v", err)
			}
			if c.want == nil {
				if got != nil {
					t.Fatalf("got %+v, want no result", *got)
				}
				return
			}
			if got == nil {
				t.Fatal("got no result")
			}
			w := c.want
			checks := []struct{ name, got, want string }{
				{"csat", fmtPtr(got.CSAT), fmtPtr(ptr(t, w.csat))},
				{"ftfr", fmtPtr(got.FTFR), fmtPtr(ptr(t, w.ftfr))},
				{"timeliness", fmtPtr(got.Timeliness), fmtPtr(ptr(t, w.timeliness))},
				{"score", got.Score.String(), w.score},
				{"band", string(got.Band), string(w.band)},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s = %s, want %s", ch.name, ch.got, ch.want)
				}
			}
			if got.DeductionPoints != w.points || got.DeductionCount != w.count || got.SeriousWarning != w.warning {
				t.Errorf("deductions = %d points / %d / warning %v, want %d / %d / %v",
					got.DeductionPoints, got.DeductionCount, got.SeriousWarning, w.points, w.count, w.warning)
			}
		})
	}
}

// naiveFloat is how the score would be computed with float64 all the way.
func naiveFloat(m Month) float64 {
	sum := 0.0
	for _, s := range m.Surveys {
		sum += float64(s.Attitude)*0.20 + float64(s.Speed)*0.15 + float64(s.Quality)*0.25 +
			float64(s.Parts)*0.15 + float64(s.Cost)*0.25
	}
	csat := sum / float64(len(m.Surveys)) / 5 * 100
	ftfr := float64(m.FirstTimeFixes) / float64(m.WorkOrders) * 100
	timely := float64(m.TimelyComplaints) / float64(m.Complaints) * 100
	x := 0.7*csat + 0.2*ftfr + 0.1*timely
	return math.Round(x*10) / 10
}

// TestScore_R44_ExactnessMatters shows months whose exact score is a tie
// (x.x5) where float64 arithmetic lands just below and rounds the wrong way.
func TestScore_R44_ExactnessMatters(t *testing.T) {
	cases := []struct {
		name        string
		m           Month
		exact       string // worked out in TestScore_R44
		floatResult float64
	}{
		// survey 2 is 0.80+0.45+1.25+0.60+1.00 = 4.0999999999999996 in float64,
		// and 0.7*83.5+0.2*80+0.1*100 = 84.449999999999989.
		{"84.45", Month{Surveys: setB, WorkOrders: 10, FirstTimeFixes: 8, Complaints: 2, TimelyComplaints: 2}, "84.5", 84.4},
		{"68.45", Month{Surveys: setB, WorkOrders: 3, FirstTimeFixes: 1, Complaints: 3, TimelyComplaints: 1}, "68.5", 68.4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Score(c.m)
			if err != nil || got == nil {
				t.Fatalf("Score = %v, %v", got, err)
			}
			if got.Score.String() != c.exact {
				t.Errorf("score = %s, want %s", got.Score, c.exact)
			}
			if f := naiveFloat(c.m); f != c.floatResult {
				t.Errorf("naive float64 gives %v; this case no longer shows the float error (want %v)", f, c.floatResult)
			}
		})
	}
}

func TestScore_Validation(t *testing.T) {
	cases := []struct {
		name string
		m    Month
		msgs []string // each must appear in the error
	}{
		{"R4.1 rating 0", Month{Surveys: []Ratings{{0, 3, 3, 3, 3}}}, []string{"surveys[0].attitude = 0"}},
		{"R4.1 rating 6", Month{Surveys: []Ratings{{3, 3, 3, 3, 3}, {3, 3, 3, 3, 6}}}, []string{"surveys[1].cost = 6"}},
		{"R4.2 first-time fixes above work orders", Month{WorkOrders: 3, FirstTimeFixes: 4}, []string{"first_time_fixes = 4"}},
		{"R4.2 first-time fixes without work orders", Month{FirstTimeFixes: 1}, []string{"first_time_fixes = 1"}},
		{"R4.3 timely above complaints", Month{Complaints: 2, TimelyComplaints: 3}, []string{"timely_complaints = 3"}},
		{"negative counts", Month{WorkOrders: -1, Complaints: -2}, []string{"work_orders = -1", "complaints = -2"}},
		{"R4.4 negative or zero deduction", Month{Complaints: 1, Deductions: []int{-20, 0}}, []string{"deductions[0] = -20", "deductions[1] = 0"}},
		{"R4.4 deduction above 100", Month{Complaints: 1, Deductions: []int{200}}, []string{"deductions[0] = 200"}},
		{"every problem reported", Month{Surveys: []Ratings{{9, 1, 1, 1, 0}}, WorkOrders: 1, FirstTimeFixes: 2},
			[]string{"surveys[0].attitude = 9", "surveys[0].cost = 0", "first_time_fixes = 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Score(c.m)
			if err == nil {
				t.Fatalf("Score = %+v, want an error", got)
			}
			if !errors.Is(err, ErrInvalidMonth) {
				t.Errorf("error %v does not wrap ErrInvalidMonth", err)
			}
			for _, msg := range c.msgs {
				if !strings.Contains(err.Error(), msg) {
					t.Errorf("error %q does not mention %q", err, msg)
				}
			}
		})
	}
	if err := (Month{Surveys: setA, WorkOrders: 2, FirstTimeFixes: 2, Complaints: 1, Deductions: []int{100}}).Validate(); err != nil {
		t.Errorf("valid edge month rejected: %v", err)
	}
}

func TestMonth_SeriousWarning_R44(t *testing.T) {
	for _, c := range []struct {
		deductions []int
		want       bool
	}{{nil, false}, {[]int{50}, false}, {[]int{20, 20}, true}, {[]int{20, 50, 50}, true}} {
		if got := (Month{Deductions: c.deductions}).SeriousWarning(); got != c.want {
			t.Errorf("SeriousWarning(%v) = %v, want %v", c.deductions, got, c.want)
		}
	}
}

func TestBandOf_R44_Edges(t *testing.T) {
	cases := []struct {
		score string
		want  Band
	}{
		{"0.0", BandFailing},
		{"59.9", BandFailing},
		{"60.0", BandPoor},
		{"69.9", BandPoor},
		{"70.0", BandFair},
		{"79.9", BandFair},
		{"80.0", BandGood},
		{"89.9", BandGood},
		{"90.0", BandExcellent},
		{"100.0", BandExcellent},
	}
	for _, c := range cases {
		if got := BandOf(tt(t, c.score)); got != c.want {
			t.Errorf("BandOf(%s) = %s, want %s", c.score, got, c.want)
		}
	}
}

func TestProbation_R44(t *testing.T) {
	zero := &Result{Score: 0, Band: BandFailing}
	low := &Result{Score: 1, Band: BandFailing} // 0.1 is not 0
	cases := []struct {
		name              string
		previous, current *Result
		want              bool
	}{
		{"R4.4 two consecutive zero months", zero, zero, true},
		{"R4.4 zero then no result", zero, nil, false},
		{"R4.4 no result then zero", nil, zero, false},
		{"R4.4 no result twice", nil, nil, false},
		{"R4.4 zero then 0.1", zero, low, false},
		{"R4.4 0.1 then zero", low, zero, false},
	}
	for _, c := range cases {
		if got := Probation(c.previous, c.current); got != c.want {
			t.Errorf("%s: Probation = %v, want %v", c.name, got, c.want)
		}
	}

	// End to end through Score: two months with two confirmed deductions each
	// (R4.4: score 0 each) put the employee on probation.
	m := Month{Surveys: all5, Deductions: []int{20, 50}}
	first, err1 := Score(m)
	second, err2 := Score(m)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !Probation(first, second) {
		t.Errorf("two months of score 0 (%s, %s): want probation", first.Score, second.Score)
	}
	noData, _ := Score(Month{Deductions: []int{20, 50}})
	if Probation(first, noData) {
		t.Error("a month without data must not count as a zero")
	}
}

// R4.1: a survey's score, the one home of the dimension weights: worked by
// hand, attitude 5 x 20 + speed 4 x 15 + quality 3 x 25 + parts 2 x 15 +
// cost 1 x 25 = 100 + 60 + 75 + 30 + 25 = 290 hundredths, 2.90.
func TestR4_1_SurveyScore(t *testing.T) {
	r := Ratings{Attitude: 5, Speed: 4, Quality: 3, Parts: 2, Cost: 1}
	if r.Hundredths() != 290 || r.Score() != 2.9 {
		t.Errorf("%d hundredths, score %v", r.Hundredths(), r.Score())
	}
	if all5 := (Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}); all5.Hundredths() != 500 {
		t.Errorf("all 5: %d", all5.Hundredths())
	}
	if field, bad := (Ratings{Attitude: 5, Speed: 0, Quality: 6, Parts: 1, Cost: 1}).Invalid(); !bad || field != "speed" {
		t.Errorf("invalid: %s %v", field, bad)
	}
}
