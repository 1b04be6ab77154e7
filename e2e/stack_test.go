// Package e2e drives the service end to end: HTTP -> server -> a real
// in-process Temporal server (temporaltest) -> worker -> a real PostgreSQL.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/server"
	"github.com/acme/aftersales/worker"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// publicationWindow is the e2e assessment window (see server.Options).
const publicationWindow = 12 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stack is one running service with the demo organisation.
type stack struct {
	t        *testing.T
	url      string
	tokens   map[string]string // user id -> bearer token
	pool     *pgxpool.Pool
	temporal client.Client
	srv      *server.Server
}

// stackConfig is what a test may change of its stack.
type stackConfig struct {
	temporal []temporaltest.TestServerOption
	window   time.Duration // the assessment's publication window
}

type stackOption func(*stackConfig)

// withTemporal passes options to the Temporal test server (e.g. the
// clients' interceptors).
func withTemporal(o ...temporaltest.TestServerOption) stackOption {
	return func(c *stackConfig) { c.temporal = append(c.temporal, o...) }
}

// withPublicationWindow replaces publicationWindow: a browser test needs
// longer to reach the appeal form than an API call.
func withPublicationWindow(d time.Duration) stackOption {
	return func(c *stackConfig) { c.window = d }
}

func startStack(t *testing.T, opts ...stackOption) *stack {
	t.Helper()
	cfg := stackConfig{temporal: []temporaltest.TestServerOption{temporaltest.WithT(t)}, window: publicationWindow}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	pool := pgtest.New(t)
	ts := temporaltest.NewServer(cfg.temporal...)
	tc := ts.GetDefaultClient()
	if err := worker.EnsureSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	queue := "e2e-" + t.Name()
	reg := prometheus.NewRegistry()
	w := worker.New(tc, queue, worker.Deps{Pool: pool, Registry: reg, Logger: quiet})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	srv, err := server.New(server.Options{
		Logger: quiet, Pool: pool, Temporal: tc, Location: loc, TaskQueue: queue, Registry: reg,
		// A month's publication window of seconds, not 3 working days, so a
		// test can walk a whole assessment month.
		PublicationWindow: cfg.window,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	tokens, err := demo.SeedTokens(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{t: t, url: hs.URL, tokens: tokens, pool: pool, temporal: tc, srv: srv}
	return s
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends method path as user ("" for no token) with body (a string is
// sent as is, anything else as JSON).
func (s *stack) call(user, method, path string, body any) response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	if user != "" {
		tok, ok := s.tokens[user]
		if !ok {
			tok = user // a literal token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && res.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			s.t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return out
}

// fields returns error.fields of an error answer.
func (r response) fields() map[string]any {
	e, _ := r.body["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func (r response) code() string {
	e, _ := r.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}
