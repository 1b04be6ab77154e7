package scoring

import (
	"encoding/json"
	"math/big"
	"strconv"
	"testing"
)

func TestRoundHalfUp_R44(t *testing.T) {
	cases := []struct {
		exact string // a big.Rat literal, exact
		want  string
	}{
		{"84.45", "84.5"},                  // a tie goes up
		{"84.44999999999999999", "84.4"},   // just below a tie goes down...
		{"84.45000000000000001", "84.5"},   // ...just above goes up
		{"1689/20", "84.5"},                // 84.45 as a fraction
		{"2533/30", "84.4"},                // 84.4333...
		{"8975/99", "90.7"},                // 90.6565...
		{"1799/20", "90.0"},                // 89.95 -> 90.0
		{"0", "0.0"},                       //
		{"1/30", "0.0"},                    // 0.0333...
		{"1/20", "0.1"},                    // 0.05
		{"100", "100.0"},                   //
		{"-1/20", "-0.1"},                  // halves away from zero (never reached by scores)
		{"-84.44999999999999999", "-84.4"}, //
	}
	for _, c := range cases {
		r, ok := new(big.Rat).SetString(c.exact)
		if !ok {
			t.Fatalf("bad literal %q", c.exact)
		}
		if got := RoundHalfUp(r).String(); got != c.want {
			t.Errorf("RoundHalfUp(%s) = %s, want %s", c.exact, got, c.want)
		}
	}

	// Why exactness: the same "84.44999999999999999" read as float64 is
	// 84.4500000000000028 and rounds to 84.5, the wrong answer.
	f, _ := strconv.ParseFloat("84.44999999999999999", 64)
	if f != 84.45 {
		t.Errorf("float64 reads 84.44999999999999999 as %v; this case no longer shows the float error", f)
	}
}

func TestTenths_JSON(t *testing.T) {
	for _, c := range []struct {
		v    Tenths
		want string
	}{{845, "84.5"}, {0, "0.0"}, {1000, "100.0"}, {5, "0.5"}, {-5, "-0.5"}, {-845, "-84.5"}} {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%d) = %s, %v; want %s", int64(c.v), b, err, c.want)
		}
		if c.v.String() != c.want {
			t.Errorf("String(%d) = %s, want %s", int64(c.v), c.v.String(), c.want)
		}
		var back Tenths
		if err := json.Unmarshal(b, &back); err != nil || back != c.v {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", b, int64(back), err, int64(c.v))
		}
	}

	// A whole Result: indicators without data are null, numbers have one decimal.
	res, err := Score(Month{Surveys: setA, Complaints: 4, TimelyComplaints: 3, Deductions: []int{20}})
	if err != nil || res == nil {
		t.Fatal(res, err)
	}
	// 86.375 - 20 = 66.375 -> 66.4 (poor); see TestScore_R44 for 86.375.
	const want = `{"csat":88.0,"ftfr":null,"timeliness":75.0,"deduction_points":20,"deduction_count":1,"score":66.4,"band":"poor","serious_warning":false}`
	b, err := json.Marshal(res)
	if err != nil || string(b) != want {
		t.Errorf("Marshal(result) =\n%s, %v; want\n%s", b, err, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.FTFR != nil || back.CSAT == nil || *back.CSAT != 880 || back.Score != 664 {
		t.Errorf("round trip = %+v", back)
	}
}

func TestParseTenths(t *testing.T) {
	good := map[string]Tenths{"84.5": 845, "84": 840, "84.50": 845, "0": 0, "0.0": 0, "-0.5": -5, "100.000": 1000}
	for s, want := range good {
		if got, err := ParseTenths(s); err != nil || got != want {
			t.Errorf("ParseTenths(%q) = %d, %v; want %d", s, int64(got), err, int64(want))
		}
	}
	// Not representable exactly or not a plain decimal: errors, never rounded.
	for _, s := range []string{"84.45", "84.05", "1e2", "", "-", ".5", "5.", "+5", "084.5", `"84.5"`, "8 4", "99999999999999999999"} {
		if got, err := ParseTenths(s); err == nil {
			t.Errorf("ParseTenths(%q) = %d, want an error", s, int64(got))
		}
	}
	var v Tenths = 7
	if err := json.Unmarshal([]byte("84.45"), &v); err == nil {
		t.Errorf("Unmarshal(84.45) = %d, want an error", int64(v))
	}
}
