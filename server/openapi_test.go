package server_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/server"
)

// newOffline builds a server whose dependencies are never reached: enough to
// inspect routes and the served document.
func newOffline(t *testing.T) *server.Server {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	srv, err := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Pool: pool, Temporal: tc, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// The served /openapi.json is a valid OpenAPI 3 document, every chi route is
// in it, and every operation in it is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv := newOffline(t)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("served document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("served document is invalid: %v", err)
	}

	routed := map[string]bool{}
	err = chi.Walk(srv.Routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route == "/" || strings.HasPrefix(route, "/console") {
			return nil // the browser console's pages, not the JSON API
		}
		routed[method+" "+strings.TrimSuffix(route, "/")] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, op := range slices.Sorted(maps.Keys(routed)) {
		if !documented[op] {
			t.Errorf("routed but not in openapi.json: %s", op)
		}
	}
	for _, op := range slices.Sorted(maps.Keys(documented)) {
		if !routed[op] {
			t.Errorf("in openapi.json but not routed: %s", op)
		}
	}
	if len(routed) < 8 {
		t.Fatalf("walked only %d routes", len(routed))
	}
}
