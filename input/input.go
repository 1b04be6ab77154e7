// Package input is the one home of what text, identifiers and instants the
// service accepts. The HTTP layer checks every body field, path parameter
// and query parameter with it, and the workflows' update validators check
// the same again, so nothing PostgreSQL cannot store (a NUL byte, invalid
// UTF-8) and nothing outside the service's horizon ever enters a workflow
// history.
//
// The package is pure and deterministic (no clock, no I/O, no regexp): the
// workflows call it from their validators. Each check answers with a
// problem phrase ("" when the value is fine) that reads after the field's
// name, e.g. "note must not contain control characters".
package input

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Length limits, in characters (not bytes: a Chinese note of 2,000
// characters is as long to its reader as an English one).
const (
	// Name is a short single-line value: a product, a category, a customer's name.
	Name = 200
	// Note is a reason, a note, a comment.
	Note = 2000
	// Long is a description, a plan, a resolution.
	Long = 4000
	// Param is a query parameter value.
	Param = 200
)

// KeyMax and IDMax bound identifiers.
const (
	KeyMax = 64
	IDMax  = 128
)

// KeyRule and IDRule describe the two identifier patterns, for messages and README.
const (
	KeyRule = "1-64 letters, digits, - or _, starting with a letter or digit"
	IDRule  = "1-128 letters, digits, ., - or _, starting with a letter or digit"
)

// Text checks free text of at most max characters: valid UTF-8, no NUL and
// no control characters except tab and line ends (\n, and \r of Windows
// line ends). The caller trims spaces first.
func Text(v string, max int) string { return text(v, max, true) }

// Line checks single-line text of at most max characters: like Text, but
// no tab or line end either.
func Line(v string, max int) string { return text(v, max, false) }

// RequiredText is Text that must not be empty.
func RequiredText(v string, max int) string {
	if v == "" {
		return "is required"
	}
	return Text(v, max)
}

func text(v string, max int, multiline bool) string {
	if !utf8.ValidString(v) {
		return "must be valid UTF-8"
	}
	n := 0
	for _, r := range v {
		n++
		switch {
		case r == 0:
			return "must not contain NUL characters"
		case multiline && (r == '\n' || r == '\t' || r == '\r'):
		case isControl(r):
			if multiline {
				return "must not contain control characters (tab and line ends are fine)"
			}
			return "must not contain control characters or line ends"
		}
	}
	if n > max {
		return fmt.Sprintf("must be at most %d characters", max)
	}
	return ""
}

// isControl reports C0 and C1 control characters and DEL, and the
// non-characters U+FFFE and U+FFFF.
func isControl(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0xfffe || r == 0xffff
}

// Key checks a business key chosen by a client (complaint_no,
// nomination_no, work_order_no): KeyRule. Keys hold no dots, so ids built
// from them ("<no>.<clock>.<level>") stay unambiguous.
func Key(v string) string { return ident(v, KeyMax, false, KeyRule) }

// ID checks any identifier (a user id, an escalation, assessment or appeal
// id, a path parameter): IDRule.
func ID(v string) string { return ident(v, IDMax, true, IDRule) }

func ident(v string, max int, dots bool, rule string) string {
	if v == "" {
		return "is required: " + rule
	}
	if len(v) > max || !alnum(v[0]) {
		return "must be " + rule
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		if !alnum(c) && c != '-' && c != '_' && !(dots && c == '.') {
			return "must be " + rule
		}
	}
	return ""
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// The service's horizon: no instant before FirstYear, none more than a year
// ahead. Months and dates outside it are mistakes (a mistyped year), and
// deadlines outside it would arm timers no one can reason about.
const (
	FirstYear = 2000
	// Ahead is how far into the future an instant may lie.
	Ahead = 366 * 24 * time.Hour
)

// Horizon checks an instant against [FirstYear, now + Ahead].
func Horizon(t, now time.Time) string {
	switch {
	case t.Year() < FirstYear:
		return fmt.Sprintf("must not be before %d", FirstYear)
	case t.After(now.Add(Ahead)):
		return "must be at most a year ahead"
	}
	return ""
}

// Month parses YYYY-MM in loc and checks it against the horizon (its first
// instant at most a year ahead).
func Month(v string, loc *time.Location, now time.Time) (time.Time, string) {
	if len(v) != 7 {
		return time.Time{}, "must be a month as YYYY-MM"
	}
	m, err := time.ParseInLocation("2006-01", v, loc)
	if err != nil {
		return time.Time{}, "must be a month as YYYY-MM"
	}
	if p := Horizon(m, now); p != "" {
		return m, p
	}
	return m, ""
}
