package scoring

import (
	"errors"
	"strings"
	"testing"
)

// yr builds a Year from twelve one-decimal literals, January first; "-" is a
// month without a result.
func yr(t testing.TB, months ...string) Year {
	t.Helper()
	if len(months) != 12 {
		t.Fatalf("yr: %d months, want 12", len(months))
	}
	var y Year
	for i, s := range months {
		if s != "-" {
			y[i] = ptr(t, s)
		}
	}
	return y
}

// flat is a year with the same score every month.
func flat(t testing.TB, s string) Year {
	t.Helper()
	return yr(t, s, s, s, s, s, s, s, s, s, s, s, s)
}

type annualWant struct {
	total  string
	months int
	rank   int
	grade  Grade
	reason string // "" = not checked
}

func checkAnnual(t *testing.T, got map[string]AnnualResult, n int, want map[string]annualWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d results, want %d", len(got), len(want))
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("%s: no result", id)
			continue
		}
		if g.Total.String() != w.total || g.Months != w.months || g.Rank != w.rank || g.Grade != w.grade || g.CohortSize != n {
			t.Errorf("%s = total %s, %d months, rank %d of %d, %s (%s);\n   want total %s, %d months, rank %d of %d, %s",
				id, g.Total, g.Months, g.Rank, g.CohortSize, g.Grade, g.Reason, w.total, w.months, w.rank, n, w.grade)
		}
		if w.reason != "" && g.Reason != w.reason {
			t.Errorf("%s reason = %q, want %q", id, g.Reason, w.reason)
		}
	}
}

// Ten employees (kim has no result at all, so n = 10), default policy 10/30/10:
//
//	top 10%:    rank r with r x 100 <= 10 x 10  -> r <= 1
//	top 40%:    r x 100 <= 10 x 40              -> r <= 4
//	bottom 10%: place from bottom (10 - r + 1) x 100 <= 10 x 10 -> r = 10
func TestAnnual_R46_CohortOf10(t *testing.T) {
	cohort := map[string]Year{
		// 11 x 90.0 + 89.7 = 990.0 + 89.7 = 1079.7; every month >= 80.
		"ann": yr(t, "90.0", "90.0", "90.0", "90.0", "90.0", "90.0", "90.0", "90.0", "90.0", "90.0", "90.0", "89.7"),
		// July missing; 10 x 98.0 + 99.7 = 980.0 + 99.7 = 1079.7 (ties ann).
		"bob": yr(t, "98.0", "98.0", "98.0", "98.0", "98.0", "98.0", "-", "98.0", "98.0", "98.0", "98.0", "99.7"),
		// 9 x 100.0 + 3 x 59.9 (April..June) = 900.0 + 179.7 = 1079.7 (ties ann and bob).
		"cat": yr(t, "100.0", "100.0", "100.0", "59.9", "59.9", "59.9", "100.0", "100.0", "100.0", "100.0", "100.0", "100.0"),
		// 9 x 75.0 + 3 x 65.0 = 675.0 + 195.0 = 870.0; exactly 9 months >= 70.
		"dan": yr(t, "75.0", "75.0", "75.0", "75.0", "75.0", "75.0", "75.0", "75.0", "75.0", "65.0", "65.0", "65.0"),
		"eve": flat(t, "70.0"), // 12 x 70.0 = 840.0
		"fay": flat(t, "65.0"), // 780.0
		"gus": flat(t, "62.0"), // 744.0
		"hal": flat(t, "60.0"), // 720.0; 60.0 is not below 60
		// 55.0, 55.0, (none), 55.0, 55.0, then 7 x 70.0: 220.0 + 490.0 = 710.0.
		// Two runs of two months below 60, split by the missing March: not three consecutive.
		"ivy": yr(t, "55.0", "55.0", "-", "55.0", "55.0", "70.0", "70.0", "70.0", "70.0", "70.0", "70.0", "70.0"),
		// 6 x 60.0 + 6 x 40.0 = 360.0 + 240.0 = 600.0; never three below 60 in a row.
		"jon": yr(t, "60.0", "40.0", "60.0", "40.0", "60.0", "40.0", "60.0", "40.0", "60.0", "40.0", "60.0", "40.0"),
		// No result in the whole year: no annual result, not counted in n.
		"kim": {},
	}
	// Ranks: ann, bob, cat tie at 1079.7 -> rank 1 each (equal totals share the
	// better rank); then dan 4, eve 5, fay 6, gus 7, hal 8, ivy 9, jon 10.
	want := map[string]annualWant{
		"ann": {"1079.7", 12, 1, GradeExcellent, "top 10% (rank 1 of 10) and every month >= 80"},
		// Top 10% but July has no result (not >= 80) -> considered for good: rank 1 <= 4, 11 months >= 70.
		"bob": {"1079.7", 11, 1, GradeGood, "top 10% (rank 1 of 10) but not every month >= 80: July has no result; top 40% (rank 1 of 10) and 11 months >= 70"},
		// Top 10% and three consecutive months < 60: failing wins.
		"cat": {"1079.7", 12, 1, GradeFailing, "three consecutive months below 60 (April to June); failing takes precedence over the top 10% (rank 1 of 10)"},
		"dan": {"870.0", 12, 4, GradeGood, "top 40% (rank 4 of 10) and 9 months >= 70"},
		"eve": {"840.0", 12, 5, GradePass, "rank 5 of 10, outside the top 40%"},
		"fay": {"780.0", 12, 6, GradePass, ""},
		"gus": {"744.0", 12, 7, GradePass, ""},
		"hal": {"720.0", 12, 8, GradePass, ""},
		"ivy": {"710.0", 11, 9, GradePass, "rank 9 of 10, outside the top 40%"},
		"jon": {"600.0", 12, 10, GradeFailing, "bottom 10% (rank 10 of 10)"},
	}
	got, err := Annual(cohort, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	checkAnnual(t, got, 10, want)
}

// Twenty employees, default policy:
//
//	top 10%:    r x 100 <= 20 x 10 = 200 -> r <= 2
//	top 40%:    r x 100 <= 20 x 40 = 800 -> r <= 8
//	bottom 10%: (20 - r + 1) x 100 <= 200 -> r >= 19
func TestAnnual_R46_CohortOf20(t *testing.T) {
	cohort := map[string]Year{
		"p01": flat(t, "96.0"), // 1152.0
		// 11 x 97.0 + 79.9 = 1067.0 + 79.9 = 1146.9; December below 80.
		"p02": yr(t, "97.0", "97.0", "97.0", "97.0", "97.0", "97.0", "97.0", "97.0", "97.0", "97.0", "97.0", "79.9"),
		"p03": flat(t, "95.0"), // 1140.0: every month >= 80 but rank 3 of 20 is not top 10%
		"p04": flat(t, "90.0"), // 1080.0
		"p05": flat(t, "88.0"), // 1056.0
		// 4 x 60.0 + 8 x 100.0 = 240.0 + 800.0 = 1040.0; only 8 months >= 70.
		"p06": yr(t, "60.0", "60.0", "60.0", "60.0", "100.0", "100.0", "100.0", "100.0", "100.0", "100.0", "100.0", "100.0"),
		"p07": flat(t, "86.0"), // 1032.0
		"p08": flat(t, "85.0"), // 1020.0 } tie at places 8 and 9: both rank 8,
		"p09": flat(t, "85.0"), // 1020.0 } both within the top 40%
		"p10": flat(t, "84.0"), // 1008.0, rank 10
		"p11": flat(t, "80.0"), // 960.0
		"p12": flat(t, "78.0"), // 936.0
		"p13": flat(t, "75.0"), // 900.0
		"p14": flat(t, "72.0"), // 864.0
		"p15": flat(t, "70.0"), // 840.0
		"p16": flat(t, "68.0"), // 816.0
		"p17": flat(t, "66.0"), // 792.0
		"p18": flat(t, "64.0"), // 768.0, rank 18: third from the bottom
		"p19": flat(t, "62.0"), // 744.0 } tie at the bottom: rank 19 each,
		"p20": flat(t, "62.0"), // 744.0 } place from bottom 2 -> bottom 10%
	}
	want := map[string]annualWant{
		"p01": {"1152.0", 12, 1, GradeExcellent, ""},
		"p02": {"1146.9", 12, 2, GradeGood, "top 10% (rank 2 of 20) but not every month >= 80: December is 79.9; top 40% (rank 2 of 20) and 12 months >= 70"},
		"p03": {"1140.0", 12, 3, GradeGood, "top 40% (rank 3 of 20) and 12 months >= 70"},
		"p04": {"1080.0", 12, 4, GradeGood, ""},
		"p05": {"1056.0", 12, 5, GradeGood, ""},
		"p06": {"1040.0", 12, 6, GradePass, "top 40% (rank 6 of 20) but only 8 months >= 70, 9 needed"},
		"p07": {"1032.0", 12, 7, GradeGood, ""},
		"p08": {"1020.0", 12, 8, GradeGood, ""},
		"p09": {"1020.0", 12, 8, GradeGood, ""},
		"p10": {"1008.0", 12, 10, GradePass, "rank 10 of 20, outside the top 40%"},
		"p11": {"960.0", 12, 11, GradePass, ""},
		"p12": {"936.0", 12, 12, GradePass, ""},
		"p13": {"900.0", 12, 13, GradePass, ""},
		"p14": {"864.0", 12, 14, GradePass, ""},
		"p15": {"840.0", 12, 15, GradePass, ""},
		"p16": {"816.0", 12, 16, GradePass, ""},
		"p17": {"792.0", 12, 17, GradePass, ""},
		"p18": {"768.0", 12, 18, GradePass, ""},
		"p19": {"744.0", 12, 19, GradeFailing, "bottom 10% (rank 19 of 20)"},
		"p20": {"744.0", 12, 19, GradeFailing, "bottom 10% (rank 19 of 20)"},
	}
	got, err := Annual(cohort, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	checkAnnual(t, got, 20, want)
}

func TestAnnual_R46_SmallCohortsAndPolicy(t *testing.T) {
	// Ten employees whose two lowest tie (840.0): both rank 9, place from the
	// bottom 10 - 9 + 1 = 2 > 1, so neither is in the bottom 10%: a tie
	// straddling the cut escapes it.
	ten := map[string]Year{
		"a": flat(t, "90.0"), "b": flat(t, "88.0"), "c": flat(t, "86.0"), "d": flat(t, "84.0"),
		"e": flat(t, "82.0"), "f": flat(t, "80.0"), "g": flat(t, "78.0"), "h": flat(t, "76.0"),
		"i": flat(t, "70.0"), "j": flat(t, "70.0"),
	}
	got, err := Annual(ten, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	checkAnnual(t, got, 10, map[string]annualWant{
		"a": {"1080.0", 12, 1, GradeExcellent, ""},
		"b": {"1056.0", 12, 2, GradeGood, ""},
		"c": {"1032.0", 12, 3, GradeGood, ""},
		"d": {"1008.0", 12, 4, GradeGood, ""},
		"e": {"984.0", 12, 5, GradePass, ""},
		"f": {"960.0", 12, 6, GradePass, ""},
		"g": {"936.0", 12, 7, GradePass, ""},
		"h": {"912.0", 12, 8, GradePass, ""},
		"i": {"840.0", 12, 9, GradePass, ""},
		"j": {"840.0", 12, 9, GradePass, ""},
	})

	// Five employees, default policy: rank 1 of 5 is the top 20%, not 10%
	// (1 x 100 > 5 x 10 = 50), so nobody is excellent; top 40%: r x 100 <= 200
	// -> r <= 2; bottom 10%: place 1 x 100 > 50, so nobody fails by rank.
	five := map[string]Year{
		"v": flat(t, "95.0"), // 1140.0
		"w": flat(t, "90.0"), // 1080.0
		"x": flat(t, "85.0"), // 1020.0
		"y": flat(t, "80.0"), // 960.0
		"z": flat(t, "60.0"), // 720.0
	}
	got, err = Annual(five, DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	checkAnnual(t, got, 5, map[string]annualWant{
		"v": {"1140.0", 12, 1, GradeGood, "top 40% (rank 1 of 5) and 12 months >= 70"},
		"w": {"1080.0", 12, 2, GradeGood, ""},
		"x": {"1020.0", 12, 3, GradePass, ""},
		"y": {"960.0", 12, 4, GradePass, ""},
		"z": {"720.0", 12, 5, GradePass, ""},
	})

	// Same five with Policy{20, 30, 20}: top 20%: r x 100 <= 100 -> r <= 1;
	// top 50%: r x 100 <= 250 -> r <= 2; bottom 20%: place x 100 <= 100 -> r = 5.
	got, err = Annual(five, Policy{ExcellentPercent: 20, GoodPercent: 30, FailingPercent: 20})
	if err != nil {
		t.Fatal(err)
	}
	checkAnnual(t, got, 5, map[string]annualWant{
		"v": {"1140.0", 12, 1, GradeExcellent, "top 20% (rank 1 of 5) and every month >= 80"},
		"w": {"1080.0", 12, 2, GradeGood, "top 50% (rank 2 of 5) and 12 months >= 70"},
		"x": {"1020.0", 12, 3, GradePass, ""},
		"y": {"960.0", 12, 4, GradePass, ""},
		"z": {"720.0", 12, 5, GradeFailing, "bottom 20% (rank 5 of 5)"},
	})

	// A partial year: only October..December, 3 x 100.0 = 300.0. Alone in the
	// cohort with Policy{100, 0, 0}: top 100%, but January has no result, and
	// only 3 months >= 70 -> pass.
	late := map[string]Year{"new": yr(t, "-", "-", "-", "-", "-", "-", "-", "-", "-", "100.0", "100.0", "100.0")}
	got, err = Annual(late, Policy{ExcellentPercent: 100})
	if err != nil {
		t.Fatal(err)
	}
	checkAnnual(t, got, 1, map[string]annualWant{
		"new": {"300.0", 3, 1, GradePass, "top 100% (rank 1 of 1) but not every month >= 80: January has no result; top 100% (rank 1 of 1) but only 3 months >= 70, 9 needed"},
	})

	// Empty cohort: empty answer.
	if got, err := Annual(nil, DefaultPolicy()); err != nil || len(got) != 0 {
		t.Errorf("Annual(nil) = %v, %v", got, err)
	}
}

func TestAnnual_Validation(t *testing.T) {
	for _, p := range []Policy{
		{ExcellentPercent: -1, GoodPercent: 30, FailingPercent: 10},
		{ExcellentPercent: 80, GoodPercent: 30, FailingPercent: 10},
		{ExcellentPercent: 10, GoodPercent: 30, FailingPercent: 101},
	} {
		if _, err := Annual(map[string]Year{"a": flat(t, "80.0")}, p); !errors.Is(err, ErrInvalidAnnual) {
			t.Errorf("policy %+v: err = %v, want ErrInvalidAnnual", p, err)
		}
	}
	bad := flat(t, "80.0")
	over := Tenths(1001)
	bad[2] = &over
	_, err := Annual(map[string]Year{"a": bad}, DefaultPolicy())
	if !errors.Is(err, ErrInvalidAnnual) || !strings.Contains(err.Error(), "a March score 100.1") {
		t.Errorf("score 100.1: err = %v", err)
	}
}
