package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/input"
)

// Path and query parameters pass the same input rules as body fields
// (package input) before any handler, loader or query sees them, so an odd
// byte in a URL (%00, invalid UTF-8, a control character) is a 400 naming
// the parameter, never a database error.

// checkQuery is the router-wide half: every query parameter is one line of
// at most input.Param characters, and a parameter named *_id is an id
// (input.ID).
func checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			next.ServeHTTP(w, r)
			return
		}
		errs := fieldErrors{}
		for name, values := range r.URL.Query() {
			field := name
			if input.ID(name) != "" {
				field = "query" // the name itself is odd: don't echo it
			}
			for _, v := range values {
				p := input.Line(v, input.Param)
				if p == "" && strings.HasSuffix(name, "_id") && v != "" {
					p = input.ID(v)
				}
				if p != "" {
					errs.add(field, p)
				}
			}
		}
		if err := errs.err(); err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pathRules are the rules of the path parameters, by name. Each route's
// own handler still parses its parameter (a month, a date) and answers 404
// for an unknown one.
var pathRules = map[string]func(string) string{
	"no":    input.Key, // complaint_no, nomination_no
	"id":    input.ID,  // escalation, deduction, assessment and appeal ids
	"month": func(v string) string { return shape(v, "dddd-dd", "a month as YYYY-MM") },
	"year":  func(v string) string { return shape(v, "dddd", "a year as YYYY") },
	"date":  func(v string) string { return shape(v, "dddd-dd-dd", "a date as YYYY-MM-DD") },
	"item":  input.Key, // a ranking item (R4.7)
	"team":  input.ID,
}

// shape checks v against a pattern of digits (d) and literal characters.
func shape(v, pattern, what string) string {
	if len(v) != len(pattern) {
		return "must be " + what
	}
	for i := range len(pattern) {
		if pattern[i] == 'd' && (v[i] < '0' || v[i] > '9') || pattern[i] != 'd' && v[i] != pattern[i] {
			return "must be " + what
		}
	}
	return ""
}

// checkPath is the per-route half (it needs the matched route's
// parameters, so authorize calls it first): every path parameter passes
// its rule.
func checkPath(r *http.Request) error {
	rc := chi.RouteContext(r.Context())
	if rc == nil {
		return nil
	}
	errs := fieldErrors{}
	for i, name := range rc.URLParams.Keys {
		if rule, ok := pathRules[name]; ok {
			if p := rule(rc.URLParams.Values[i]); p != "" {
				errs.add(name, p)
			}
		}
	}
	return errs.err()
}
