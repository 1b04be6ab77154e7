package input_test

// Fuzz targets for the text and identifier checks. Each compares the check
// with an independent, deliberately simple reference built on the standard
// library (utf8, unicode), in both directions: whatever passes satisfies
// the reference, and whatever the reference allows passes. The seeds run in
// every plain `go test`; `make fuzz` explores beyond them.

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/acme/aftersales/input"
)

// textSeeds are the awkward inputs of the table tests.
var textSeeds = []string{
	"", "plain text", "包裹破损", "ok 👍", "a\tb", "a\nb", "a\r\nb",
	"a\x00b", "\x00", "\xff", "\xc3", "a\xc0\x80b", "\xed\xa0\x80",
	"a\x07b", "\x1b[31m", "a\x7fb", "a\u0085b", "a\u009fb", "a\ufffeb", "a\uffffb", "\ufffd",
	"a\u2028b", "\ufeff", strings.Repeat("中", 201), strings.Repeat("a", 2001),
}

// textProblem is the reference for Text (multiline) and Line: the reason v
// is not acceptable within max characters, or "" when it is.
func textProblem(v string, max int, multiline bool) string {
	if !utf8.ValidString(v) {
		return "invalid UTF-8"
	}
	if strings.ContainsRune(v, 0) {
		return "NUL"
	}
	for _, r := range v {
		if multiline && (r == '\t' || r == '\n' || r == '\r') {
			continue
		}
		// unicode.IsControl is exactly C0, DEL and C1; U+FFFE and U+FFFF
		// are the non-characters input also refuses.
		if unicode.IsControl(r) || r == 0xfffe || r == 0xffff {
			return "control character"
		}
	}
	if utf8.RuneCountInString(v) > max {
		return "too long"
	}
	return ""
}

// fuzzText compares check (Text or Line) with the reference. max is
// fuzzed too, within 0..65535, so length boundaries get exercised on short
// inputs as well as the named limits.
func fuzzText(f *testing.F, check func(string, int) string, multiline bool) {
	for _, s := range textSeeds {
		for _, max := range []uint16{0, 1, 3, input.Name, input.Note} {
			f.Add(s, max)
		}
	}
	f.Fuzz(func(t *testing.T, v string, max uint16) {
		got := check(v, int(max))
		want := textProblem(v, int(max), multiline)
		switch {
		case got == "" && want != "":
			t.Errorf("%q (max %d) passed, but it has a problem: %s", v, max, want)
		case got != "" && want == "":
			t.Errorf("%q (max %d) rejected with %q, but it is fine", v, max, got)
		}
	})
}

// FuzzText: what Text accepts is valid UTF-8 without NUL, without control
// characters other than tab, \n and \r, and within the limit; all of it is accepted.
func FuzzText(f *testing.F) { fuzzText(f, input.Text, true) }

// FuzzLine: like FuzzText, without tab and line ends.
func FuzzLine(f *testing.F) { fuzzText(f, input.Line, false) }

// identSeeds are the awkward identifiers of the table tests.
var identSeeds = []string{
	"", "a", "7", "C-1", "C-1.contact.1", "appeal_2026-10_agent1", "WO_2026_0001",
	".a", "-a", "_a", "a.", "../etc", "a/b", "a b", "%00", "a\x00b", "中文", "café", "a\xc3", "１",
	strings.Repeat("k", 64), strings.Repeat("k", 65), strings.Repeat("i", 128), strings.Repeat("i", 129),
}

// identOK is the reference for Key and ID: 1..max bytes of [A-Za-z0-9._-]
// (no dot when !dots), the first a letter or digit.
func identOK(v string, max int, dots bool) bool {
	if v == "" || len(v) > max {
		return false
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	allowed := alnum + "-_"
	if dots {
		allowed += "."
	}
	if !strings.ContainsRune(alnum, rune(v[0])) {
		return false
	}
	for i := 0; i < len(v); i++ { // bytes, so no multi-byte rune can slip in
		if !strings.ContainsRune(allowed, rune(v[i])) {
			return false
		}
	}
	return true
}

func fuzzIdent(f *testing.F, check func(string) string, max int, dots bool) {
	chars := "[A-Za-z0-9_-]"
	if dots {
		chars = "[A-Za-z0-9._-]"
	}
	for _, s := range identSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := check(v)
		want := identOK(v, max, dots)
		switch {
		case got == "" && !want:
			t.Errorf("%q passed, but it is not 1-%d of %s, starting with a letter or digit", v, max, chars)
		case got != "" && want:
			t.Errorf("%q rejected with %q, but it is a valid identifier", v, got)
		}
	})
}

// FuzzID: what ID accepts is 1-128 of [A-Za-z0-9._-], starting with a letter
// or digit; all of it is accepted.
func FuzzID(f *testing.F) { fuzzIdent(f, input.ID, input.IDMax, true) }

// FuzzKey: like FuzzID with 1-64 characters and no dot.
func FuzzKey(f *testing.F) { fuzzIdent(f, input.Key, input.KeyMax, false) }
