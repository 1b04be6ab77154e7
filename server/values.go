package server

import (
	"time"

	"github.com/acme/aftersales/auth"
)

// Small conversions the handlers share.

// roles types role names.
func roles(rs []string) []auth.Role {
	out := make([]auth.Role, len(rs))
	for i, r := range rs {
		out[i] = auth.Role(r)
	}
	return out
}

// shownTime is t as an answer shows it: in loc (the calendar's zone, R2),
// to the whole second (issue 13 item 7). Cases started since record whole
// seconds; this rounds the instants of runs started before.
func shownTime(t time.Time, loc *time.Location) time.Time { return t.Truncate(time.Second).In(loc) }

// localTime is shownTime of *t, nil for nil.
func localTime(t *time.Time, loc *time.Location) *time.Time {
	if t == nil {
		return nil
	}
	l := shownTime(*t, loc)
	return &l
}

// deref is *s, "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
