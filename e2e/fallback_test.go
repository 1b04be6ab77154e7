package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/server/temporaltest"

	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/server"
	"github.com/acme/aftersales/worker"
)

// With no worker polling, a complaint's GET answers from the read model
// (X-State-Source: read-model) instead of a 503, and a command answers 503
// with Retry-After within the request deadline, saying it was not accepted.
func TestNoWorkerReadsFromTheReadModelAndCommandsAre503(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	tc := ts.GetDefaultClient()
	if err := worker.EnsureSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	quietLog := slog.New(slog.NewTextHandler(io.Discard, nil))
	queue := "e2e-" + t.Name()
	w := worker.New(tc, queue, worker.Deps{Pool: pool, Registry: prometheus.NewRegistry(), Logger: quietLog})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	srv, err := server.New(server.Options{Logger: quietLog, Pool: pool, Temporal: tc, Location: loc, TaskQueue: queue,
		Registry: prometheus.NewRegistry(), RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	if err := demo.Seed(ctx, pool); err != nil {
		t.Fatal(err)
	}
	users, err := demo.IssueTokens(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, url: hs.URL, tokens: map[string]string{}, pool: pool, temporal: tc}
	for _, u := range users {
		s.tokens[u.UserID] = u.Token
	}
	s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("NW-1")), 201, "create")
	s.must(s.call("agent1", "POST", "/api/v1/complaints/NW-1/contact", map[string]any{"note": "called"}), 200, "contact")
	w.Stop() // no worker polls from here on

	r := s.must(s.call("officer1", "GET", "/api/v1/complaints/NW-1", nil), 200, "GET without a worker")
	if r.header.Get("X-State-Source") != "read-model" || clockNamed(r.body, "contact")["met_at"] == nil {
		t.Errorf("GET without a worker: %v %s", r.header, r.raw)
	}
	start := time.Now()
	r = s.call("agent1", "POST", "/api/v1/complaints/NW-1/plan", map[string]any{"plan": "p"})
	if r.status != 503 || r.header.Get("Retry-After") == "" || r.fields()["temporal"] == nil {
		t.Errorf("command without a worker: %d %v %s", r.status, r.header, r.raw)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("command without a worker took %s, want about the 2 s deadline", took)
	}
}
