package server

import (
	"bytes"
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/acme/aftersales/auth"
)

// The console (package console) is the API's first client, in-process: its
// pages read through the same /api/v1 routes and its forms send the same
// commands, so every rule, query and Access decision has one home, here,
// and the console holds only presentation (form fields to JSON, JSON to
// HTML). Call is that door.

type (
	inProcessKey struct{}
	dryRunKey    struct{}
)

// Call runs one /api/v1 request as p, in-process: the same middleware,
// Access rules, validation, deadlines and metrics as a request with p's
// bearer token. target is the path and query ("/api/v1/clocks?limit=50");
// header may carry Idempotency-Key. It answers the status, the headers and
// the body the API would have sent.
func (s *Server) Call(ctx context.Context, p auth.Principal, method, target string, header http.Header, body []byte) (int, http.Header, []byte) {
	// A fresh routing context: chi would otherwise go on routing the
	// console's own request.
	ctx = context.WithValue(ctx, chi.RouteCtxKey, nil)
	req, err := http.NewRequestWithContext(context.WithValue(ctx, inProcessKey{}, p), method, target, bytes.NewReader(body))
	if err != nil {
		return http.StatusBadRequest, http.Header{}, nil
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// Keep the console request's id, so one id follows the page into the API's log lines.
	if id := middleware.GetReqID(ctx); id != "" {
		req.Header.Set(middleware.RequestIDHeader, id)
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	s.router.ServeHTTP(rec, req)
	return rec.status, rec.header, rec.body.Bytes()
}

// Allowed reports whether p may send method target now: the route's Access
// rule runs (loading the resource when roles alone do not decide) and the
// handler does not. The console offers only the actions it allows.
func (s *Server) Allowed(ctx context.Context, p auth.Principal, method, target string) bool {
	status, _, _ := s.Call(context.WithValue(ctx, dryRunKey{}, true), p, method, target, nil, nil)
	return status == http.StatusNoContent
}

func isDryRun(r *http.Request) bool { return r.Context().Value(dryRunKey{}) != nil }

// inProcessPrincipal is the caller of a Call; no request from the network
// can carry it (the key is this package's).
func inProcessPrincipal(r *http.Request) (auth.Principal, bool) {
	p, ok := r.Context().Value(inProcessKey{}).(auth.Principal)
	return p, ok
}

// recorder is the http.ResponseWriter of a Call.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
