package auth

import "testing"

// Issue 12: Bearer sends the service's own "<id>.<secret>" tokens to the
// token table and everything else to the provider; the split is by shape.
func TestR1_IsServiceToken(t *testing.T) {
	for tok, want := range map[string]bool{
		"AbC-_09xyz12.s3cr3t-_XYZ":                  true,
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": false, // a JWT: three parts
		"no-dot":      false,
		".secret":     false,
		"id.":         false,
		"i d.secret":  false,
		"id\x00.x":    false,
		"id.sec.ret.": false,
	} {
		if got := IsServiceToken(tok); got != want {
			t.Errorf("IsServiceToken(%q) = %v, want %v", tok, got, want)
		}
	}
}
