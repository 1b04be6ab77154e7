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

// localTime is t in loc (the calendar's zone, R2), nil for nil.
func localTime(t *time.Time, loc *time.Location) *time.Time {
	if t == nil {
		return nil
	}
	l := t.In(loc)
	return &l
}

// deref is *s, "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
