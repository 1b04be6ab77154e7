package calendar

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// mustDate is a test helper: ParseDate or fail the test.
func mustDate(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func TestR2_ParseDateRejects(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{"2026-13-01", "month 13 out of range"},
		{"2026-02-30", "day 30 out of range 01..28"},
		{"2024-02-30", "day 30 out of range 01..29"},
		{"2026-00-10", "month 0 out of range"},
		{"2026-01-00", "day 0 out of range"},
		{"0000-01-01", "year must be"},
		{"26-01-01", "want YYYY-MM-DD"},
		{"2026-1-1", "want YYYY-MM-DD"},
		{"2026-01-1", "want YYYY-MM-DD"},
		{"", "want YYYY-MM-DD"},
		{"2026/01/01", "want YYYY-MM-DD"},
		{"2026-01-01T00:00:00Z", "want YYYY-MM-DD"},
		{" 2026-01-1", "want YYYY-MM-DD"},
		{" 026-01-01", "digits only"},
		{"+026-01-01", "digits only"},
		{"2026-0a-01", "digits only"},
	} {
		_, err := ParseDate(tc.in)
		if err == nil {
			t.Errorf("ParseDate(%q) = nil error, want error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `"`+tc.in+`"`) {
			t.Errorf("ParseDate(%q) error %q, want it to quote the input and contain %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestR2_ParseDateAccepts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Date
	}{
		{"2026-10-01", Date{2026, time.October, 1}},
		{"2024-02-29", Date{2024, time.February, 29}},
		{"0001-01-01", Date{1, time.January, 1}},
		{"9999-12-31", Date{9999, time.December, 31}},
	} {
		got, err := ParseDate(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

func TestR2_DateArithmetic(t *testing.T) {
	for _, tc := range []struct {
		from string
		n    int
		want string
		wd   time.Weekday // weekday of want
	}{
		{"2026-02-28", 1, "2026-03-01", time.Sunday},
		{"2024-02-28", 1, "2024-02-29", time.Thursday},
		{"2025-12-31", 1, "2026-01-01", time.Thursday},
		{"2026-01-01", -1, "2025-12-31", time.Wednesday},
		{"2026-10-01", 0, "2026-10-01", time.Thursday},
		{"2026-01-01", 365, "2027-01-01", time.Friday},
	} {
		got := mustDate(t, tc.from).AddDays(tc.n)
		if got.String() != tc.want || got.Weekday() != tc.wd {
			t.Errorf("%s.AddDays(%d) = %s (%v), want %s (%v)", tc.from, tc.n, got, got.Weekday(), tc.want, tc.wd)
		}
	}

	a, b := mustDate(t, "2026-02-28"), mustDate(t, "2026-03-01")
	if !a.Before(b) || a.After(b) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 || !b.After(a) {
		t.Errorf("ordering of %s and %s is wrong", a, b)
	}
	if x, y := mustDate(t, "2025-12-31"), mustDate(t, "2026-01-01"); !x.Before(y) {
		t.Errorf("%s should be before %s", x, y)
	}
}

func TestR2_DateOfAndStart(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	// 2026-03-09T17:30Z is Monday in UTC but already Tuesday 01:30 in Shanghai.
	ts := time.Date(2026, 3, 9, 17, 30, 0, 0, time.UTC)
	if got := DateOf(ts, sh).String(); got != "2026-03-10" {
		t.Errorf("DateOf Shanghai = %s, want 2026-03-10", got)
	}
	if got := DateOf(ts, time.UTC).String(); got != "2026-03-09" {
		t.Errorf("DateOf UTC = %s, want 2026-03-09", got)
	}
	start := mustDate(t, "2026-03-10").Start(sh)
	if want := time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC); !start.Equal(want) || start.Location() != sh {
		t.Errorf("Start = %v, want %v in Asia/Shanghai", start, want)
	}
}

func TestR2_DateJSON(t *testing.T) {
	o := Override{Date: Date{2026, time.October, 1}, Working: true, Note: "x"}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"date":"2026-10-01","working":true,"note":"x"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
	var back Override
	if err := json.Unmarshal(b, &back); err != nil || back != o {
		t.Errorf("round trip = %+v, %v; want %+v", back, err, o)
	}
	if err := json.Unmarshal([]byte(`{"date":"2026-02-30"}`), &back); err == nil {
		t.Error("unmarshal of 2026-02-30 succeeded, want error")
	}
	if _, err := json.Marshal(Date{}); err == nil {
		t.Error("marshal of zero Date succeeded, want error")
	}
	b, err = json.Marshal(Day{Date: Date{2026, 10, 1}, Source: Statutory, Name: "国庆节"})
	if want := `{"date":"2026-10-01","working":false,"source":"statutory","name":"国庆节"}`; err != nil || string(b) != want {
		t.Errorf("Day json = %s, %v; want %s", b, err, want)
	}
}
