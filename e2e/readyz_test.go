package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/server"
)

// /readyz names exactly the dependency that is down.
func TestReadyzNamesTheDependencyThatIsDown(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	goodPool := pgtest.New(t)
	// Nothing listens on port 1 of the loopback, nor in this socket directory.
	badPool, err := pgxpool.New(context.Background(), "postgres://app@/x?host="+t.TempDir()+"&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(badPool.Close)
	badTemporal, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(badTemporal.Close)

	for _, tc := range []struct {
		name     string
		pool     *pgxpool.Pool
		temporal client.Client
		down     []string
	}{
		{"postgres down", badPool, ts.GetDefaultClient(), []string{"postgres"}},
		{"temporal down", goodPool, badTemporal, []string{"temporal"}},
		{"both down", badPool, badTemporal, []string{"postgres", "temporal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc, _ := time.LoadLocation("Asia/Shanghai")
			srv, err := server.New(server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Pool: tc.pool, Temporal: tc.temporal, Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			s := &stack{t: t, url: hs.URL}
			r := s.call("", http.MethodGet, "/readyz", nil)
			if r.status != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", r.status, r.raw)
			}
			fields := r.fields()
			if len(fields) != len(tc.down) {
				t.Fatalf("down = %v, want %v", fields, tc.down)
			}
			for _, name := range tc.down {
				if _, ok := fields[name]; !ok {
					t.Fatalf("%s not named: %s", name, r.raw)
				}
			}
		})
	}
}
