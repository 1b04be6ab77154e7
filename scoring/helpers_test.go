package scoring

import "testing"

// tt parses a one-decimal literal such as "84.5" (tests read as decimals,
// never as float64).
func tt(t testing.TB, s string) Tenths {
	t.Helper()
	v, err := ParseTenths(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ptr(t testing.TB, s string) *Tenths {
	t.Helper()
	if s == "" {
		return nil
	}
	v := tt(t, s)
	return &v
}

func fmtPtr(p *Tenths) string {
	if p == nil {
		return "<no data>"
	}
	return p.String()
}
