package input

import (
	"strings"
	"testing"
	"time"
)

// check runs one table row: want "" means the value must pass; otherwise the
// problem must be non-empty and contain want (a word of the phrase, so the
// test names the reason without pinning the whole message).
func check(t *testing.T, name, problem, want string) {
	t.Helper()
	switch {
	case want == "" && problem != "":
		t.Errorf("%s: rejected with %q, want it accepted", name, problem)
	case want != "" && problem == "":
		t.Errorf("%s: accepted, want a problem containing %q", name, want)
	case want != "" && !strings.Contains(problem, want):
		t.Errorf("%s: problem %q, want it to contain %q", name, problem, want)
	}
}

// Phrase words the tables expect.
const (
	ok      = ""
	nul     = "NUL"
	badUTF8 = "UTF-8"
	control = "control"
	tooLong = "at most"
)

func TestText(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		max     int
		want    string
	}{
		{"empty", "", Note, ok},
		{"plain", "the parcel arrived broken", Note, ok},
		{"Chinese", "包裹破损", Note, ok},
		{"emoji", "ok 👍", Note, ok},
		{"tab", "a\tb", Note, ok},
		{"newline", "line 1\nline 2", Note, ok},
		{"Windows line end", "line 1\r\nline 2", Note, ok},
		{"bare CR", "a\rb", Note, ok},
		{"U+2028 is not a control character", "a\u2028b", Note, ok},
		{"NUL", "a\x00b", Note, nul},
		{"only NUL", "\x00", Note, nul},
		{"invalid UTF-8 byte", "\xff", Note, badUTF8},
		{"truncated UTF-8 sequence", "\xc3", Note, badUTF8},
		{"invalid UTF-8 after text", "abc\xc3", Note, badUTF8},
		{"overlong NUL encoding", "a\xc0\x80b", Note, badUTF8},
		{"UTF-16 surrogate", "\xed\xa0\x80", Note, badUTF8},
		{"BEL", "a\x07b", Note, control},
		{"ESC (terminal escape)", "\x1b[31mred", Note, control},
		{"vertical tab", "a\vb", Note, control},
		{"form feed", "a\fb", Note, control},
		{"DEL", "a\x7fb", Note, control},
		{"C1 NEL", "a\u0085b", Note, control},
		{"C1 CSI", "a\u009bb", Note, control},
		{"non-character U+FFFE", "a\ufffeb", Note, control},
		{"non-character U+FFFF", "a\uffffb", Note, control},
		{"U+FFFD replacement character is fine", "a\ufffdb", Note, ok},
		{"NUL reported before length", strings.Repeat("a", Note) + "\x00", Note, nul},
		{"Note ASCII at limit", strings.Repeat("a", Note), Note, ok},
		{"Note ASCII over limit", strings.Repeat("a", Note+1), Note, tooLong},
		{"Note Chinese at limit", strings.Repeat("中", Note), Note, ok},
		{"Note Chinese over limit", strings.Repeat("中", Note+1), Note, tooLong},
		{"Long emoji at limit (4 bytes each)", strings.Repeat("👍", Long), Long, ok},
		{"Long emoji over limit", strings.Repeat("👍", Long+1), Long, tooLong},
		{"newlines count as characters", strings.Repeat("\n", Name+1), Name, tooLong},
	} {
		check(t, tc.name, Text(tc.v, tc.max), tc.want)
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		max     int
		want    string
	}{
		{"empty", "", Name, ok},
		{"plain", "Kettle 2000", Name, ok},
		{"Chinese", "电热水壶", Name, ok},
		{"inner spaces", "a  b", Name, ok},
		{"tab", "a\tb", Name, control},
		{"newline", "a\nb", Name, control},
		{"CR", "a\rb", Name, control},
		{"Windows line end", "a\r\nb", Name, control},
		{"NUL", "a\x00b", Name, nul},
		{"invalid UTF-8 byte", "\xff", Name, badUTF8},
		{"truncated UTF-8 sequence", "\xc3", Name, badUTF8},
		{"BEL", "a\x07b", Name, control},
		{"ESC", "a\x1bb", Name, control},
		{"DEL", "a\x7fb", Name, control},
		{"C1 NEL", "a\u0085b", Name, control},
		{"non-character U+FFFF", "a\uffffb", Name, control},
		{"Name ASCII at limit", strings.Repeat("a", Name), Name, ok},
		{"Name ASCII over limit", strings.Repeat("a", Name+1), Name, tooLong},
		{"Name 200 Chinese characters (600 bytes)", strings.Repeat("中", Name), Name, ok},
		{"Name 201 Chinese characters", strings.Repeat("中", Name+1), Name, tooLong},
		{"Name mixed widths at limit", strings.Repeat("a中é👍", Name/4), Name, ok},
		{"Name mixed widths over limit", strings.Repeat("a中é👍", Name/4) + "x", Name, tooLong},
		{"Param at limit", strings.Repeat("ü", Param), Param, ok},
		{"Param over limit", strings.Repeat("ü", Param+1), Param, tooLong},
	} {
		check(t, tc.name, Line(tc.v, tc.max), tc.want)
	}
}

func TestRequiredText(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		want    string
	}{
		{"empty", "", "required"},
		{"plain", "customer called twice", ok},
		{"multi-line", "first\nsecond", ok},
		{"single space (the caller trims)", " ", ok},
		{"NUL", "a\x00b", nul},
		{"invalid UTF-8", "\xff", badUTF8},
		{"ESC", "\x1b", control},
		{"C1", "\u0085", control},
		{"at limit", strings.Repeat("中", Note), ok},
		{"over limit", strings.Repeat("中", Note+1), tooLong},
	} {
		check(t, tc.name, RequiredText(tc.v, Note), tc.want)
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		want    string
	}{
		{"simple", "C-1", ok},
		{"underscore and digits", "WO_2026_0001", ok},
		{"single letter", "a", ok},
		{"single digit", "7", ok},
		{"leading digit", "1abc", ok},
		{"at limit", strings.Repeat("k", KeyMax), ok},
		{"over limit", strings.Repeat("k", KeyMax+1), "must be"},
		{"empty", "", "required"},
		{"dot", "C-1.contact", "must be"},
		{"trailing dot", "C-1.", "must be"},
		{"leading dot", ".C1", "must be"},
		{"leading dash", "-C1", "must be"},
		{"leading underscore", "_C1", "must be"},
		{"space", "C 1", "must be"},
		{"slash", "C/1", "must be"},
		{"percent-encoded NUL", "%00", "must be"},
		{"NUL", "C\x00", "must be"},
		{"Chinese", "中文", "must be"},
		{"Latin letter with accent", "café", "must be"},
		{"invalid UTF-8", "C\xff", "must be"},
		{"newline", "C1\n", "must be"},
	} {
		check(t, tc.name, Key(tc.v), tc.want)
	}
}

func TestID(t *testing.T) {
	for _, tc := range []struct {
		name, v string
		want    string
	}{
		{"escalation id", "C-1.contact.1", ok},
		{"appeal id", "appeal_2026-10_agent1", ok},
		{"user id", "agent1", ok},
		{"single character", "x", ok},
		{"trailing dot", "a.", ok},
		{"at limit", strings.Repeat("i", IDMax), ok},
		{"over limit (129)", strings.Repeat("i", IDMax+1), "must be"},
		{"empty", "", "required"},
		{"Chinese", "中文", "must be"},
		{"percent-encoded NUL", "%00", "must be"},
		{"NUL", "a\x00b", "must be"},
		{"leading dot", ".a", "must be"},
		{"leading dash", "-a", "must be"},
		{"leading underscore", "_a", "must be"},
		{"dot-dot path", "../etc", "must be"},
		{"slash", "a/b", "must be"},
		{"space", "a b", "must be"},
		{"colon", "a:b", "must be"},
		{"invalid UTF-8", "a\xc3", "must be"},
		{"fullwidth digit", "１", "must be"},
	} {
		check(t, tc.name, ID(tc.v), tc.want)
	}
}

// now is a fixed instant, so the horizon tests do not depend on the clock.
var now = time.Date(2026, 5, 15, 12, 0, 0, 0, time.UTC)

func TestHorizon(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		name string
		t    time.Time
		want string
	}{
		{"now", now, ok},
		{"first instant of 2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), ok},
		{"1999-12-31", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), "2000"},
		{"last instant of 1999", time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), "2000"},
		{"zero time", time.Time{}, "2000"},
		{"now + 365 days", now.Add(365 * day), ok},
		{"now + Ahead exactly", now.Add(Ahead), ok},
		{"now + Ahead + 1ns", now.Add(Ahead + 1), "year ahead"},
		{"now + 367 days", now.Add(367 * day), "year ahead"},
		{"year 9999", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "year ahead"},
	} {
		check(t, tc.name, Horizon(tc.t, now), tc.want)
	}
}

func TestMonth(t *testing.T) {
	// A zone east of UTC: a month starts before its UTC namesake.
	loc := time.FixedZone("UTC+8", 8*60*60)
	for _, tc := range []struct {
		name, v string
		want    string
	}{
		{"current month", "2026-05", ok},
		{"first month of the horizon", "2000-01", ok},
		{"last month", "2026-04", ok},
		{"a year ahead (starts before now + Ahead)", "2027-05", ok},
		{"13 months ahead (starts after now + Ahead)", "2027-06", "year ahead"},
		{"two years ahead", "2028-05", "year ahead"},
		{"before the horizon", "1999-12", "2000"},
		{"month 13", "2026-13", "YYYY-MM"},
		{"month 00", "2026-00", "YYYY-MM"},
		{"two-digit year", "26-01", "YYYY-MM"},
		{"one-digit month", "2026-1", "YYYY-MM"},
		{"empty", "", "YYYY-MM"},
		{"a date", "2026-05-01", "YYYY-MM"},
		{"slash", "2026/05", "YYYY-MM"},
		{"trailing space", "2026-5 ", "YYYY-MM"},
		{"NUL", "2026-0\x00", "YYYY-MM"},
		{"fullwidth digits", "２０２６-05", "YYYY-MM"},
	} {
		m, problem := Month(tc.v, loc, now)
		check(t, tc.name, problem, tc.want)
		if tc.want == ok && (m.Day() != 1 || m.Hour() != 0 || m.Location() != loc || m.Format("2006-01") != tc.v) {
			t.Errorf("%s: Month(%q) = %v, want the first instant of the month in %v", tc.name, tc.v, m, loc)
		}
	}
}

// TestMonthNow checks the current month against the real clock: whatever
// today is, its month is accepted.
func TestMonthNow(t *testing.T) {
	now := time.Now()
	v := now.In(time.UTC).Format("2006-01")
	if _, problem := Month(v, time.UTC, now); problem != "" {
		t.Errorf("Month(%q) at %v: %q, want the current month accepted", v, now, problem)
	}
}
