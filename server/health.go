package server

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz checks both dependencies concurrently, each with its own short
// timeout, and names the ones that are down.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]func(context.Context) error{
		"postgres": s.pool.Ping,
		"temporal": func(ctx context.Context) error {
			_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
	}
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(checks))
	for name, check := range checks {
		go func() { results <- result{name, check(ctx)} }()
	}
	status := map[string]string{}
	var down []string
	for range checks {
		res := <-results
		status[res.name] = "ok"
		if res.err != nil {
			status[res.name] = "down"
			down = append(down, res.name)
			logger(r).WarnContext(r.Context(), "readiness check failed", "dependency", res.name, "error", res.err)
		}
	}
	if len(down) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": status})
		return
	}
	sort.Strings(down)
	fields := map[string]string{}
	for _, name := range down {
		fields[name] = "unreachable"
	}
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{
		"error":  &apiError{Code: "not_ready", Message: strings.Join(down, ", ") + " down", Fields: fields},
		"checks": status,
	})
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}
