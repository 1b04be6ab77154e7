package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// apiError is the error body of api.md:
// {"error": {"code": "...", "message": "...", "fields": {"field": "problem"}}}.
type apiError struct {
	Status  int               `json:"-"`
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// retryAfter, when set, is sent as the Retry-After header (a 503 or 429).
	retryAfter time.Duration
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func badRequest(fields map[string]string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_input", Message: "the request has invalid fields", Fields: fields}
}

var (
	errUnauthenticated = &apiError{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "a valid bearer token is required"}
	errForbidden       = &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "your roles do not allow this"}
	errNotFound        = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such resource"}
	errMethod          = &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "this method is not allowed on this path"}
	errInternal        = &apiError{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; it has been logged with the request id"}
)

// fieldErrors collects field-level problems of one request.
type fieldErrors map[string]string

// downKey marks, among the field problems, that a field could not be
// checked because PostgreSQL is down (see down): no JSON field is named so.
const downKey = "\x00postgres"

func (f fieldErrors) add(field, problem string) {
	if _, dup := f[field]; !dup {
		f[field] = problem
	}
}

// down records that a check could not run because PostgreSQL failed: the
// request is then 503, not 400 (the input may well be fine).
func (f fieldErrors) down() { f[downKey] = "down" }

// err returns a 503 when a check could not run, else a 400 when there is
// any problem, else nil.
func (f fieldErrors) err() error {
	if _, ok := f[downKey]; ok {
		return unavailable("postgres", "not reachable or not answering")
	}
	if len(f) == 0 {
		return nil
	}
	return badRequest(f)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers err as an api.md error body. Anything that is not an
// *apiError is a bug and becomes a logged 500.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if ae = dependencyError(err); ae != nil {
			logger(r).WarnContext(r.Context(), "dependency unavailable", slog.Any("error", err))
		} else {
			logger(r).ErrorContext(r.Context(), "request failed", slog.Any("error", err))
			ae = errInternal
		}
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterHeader(ae.retryAfter))
	}
	writeJSON(w, ae.Status, map[string]*apiError{"error": ae})
}

// handlerFunc is an http.HandlerFunc that returns its error, so handlers read
// top to bottom and every error is answered in one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isDryRun(r) { // a route without an Access rule: never act on a question (Allowed)
		w.WriteHeader(http.StatusNotImplemented)
		return
	}
	if err := h(w, r); err != nil {
		writeError(w, r, err)
	}
}
