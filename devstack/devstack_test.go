package devstack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/demo"
)

// `make run` end to end: the stack comes up on embedded defaults with the
// Web UI, answers a token from demo-tokens.json, stops cleanly, and a second
// run finds the same data (PostgreSQL rows, tokens, Temporal workflows).
func TestRunRestartKeepsData(t *testing.T) { testRunRestartKeepsData(t, "") }

// The same with TEMPORAL_PERSISTENCE=postgres: the embedded Temporal server
// keeps its workflows in the local cluster's temporal database, and the
// second start finds its schema and namespace there.
func TestRunOnPostgresRestartKeepsData(t *testing.T) { testRunRestartKeepsData(t, "postgres") }

func testRunRestartKeepsData(t *testing.T, persistence string) {
	tmp := t.TempDir()
	// As root, PostgreSQL runs as the postgres user, who must be able to
	// reach the data directory; t.TempDir's directories are 0700.
	for _, d := range []string{filepath.Dir(tmp), tmp} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dataDir := filepath.Join(tmp, "data")
	httpPort, _ := freePort("127.0.0.1")
	temporalPort, _ := freePort("127.0.0.1")
	uiPort, _ := freePort("127.0.0.1")
	t.Setenv("DATA_DIR", dataDir)
	t.Setenv("HTTP_ADDR", fmt.Sprintf("127.0.0.1:%d", httpPort))
	t.Setenv("TEMPORAL_DEV_PORT", fmt.Sprint(temporalPort))
	t.Setenv("TEMPORAL_UI_PORT", fmt.Sprint(uiPort))
	t.Setenv("TEMPORAL_ADDRESS", "")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("TEMPORAL_PERSISTENCE", persistence)
	api := fmt.Sprintf("http://127.0.0.1:%d", httpPort)

	var banners []*strings.Builder // read only once Run is ready
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var banner strings.Builder
		go func() { done <- Run(ctx, &banner) }()
		banners = append(banners, &banner)
		waitReady(t, api+"/readyz", done)
		if !strings.Contains(banner.String(), "curl") {
			t.Errorf("banner has no curl line:\n%s", banner.String())
		}
		return func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("Run did not stop within 60s of cancel")
			}
		}
	}

	stop := start()
	users := readDemoTokens(t, filepath.Join(dataDir, "demo-tokens.json"))
	admin := users["admin1"]
	if status, _ := do(t, "PUT", api+"/api/v1/calendar/overrides/2026-12-26", admin, `{"working":true,"note":"year-end push"}`); status != 201 {
		t.Fatalf("PUT override: %d", status)
	}
	if res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", uiPort)); err != nil || res.StatusCode != 200 {
		t.Fatalf("Temporal Web UI: %v %v", err, res)
	}
	tc, err := client.Dial(client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	// A workflow nobody works on: it must still be there after a restart.
	if _, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "probe", TaskQueue: "nobody"}, "Probe"); err != nil {
		t.Fatal(err)
	}
	tc.Close()
	if persistence == "postgres" {
		// The workflow is in PostgreSQL, and there is no SQLite file.
		if _, err := os.Stat(filepath.Join(dataDir, "temporal.db")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporal.db exists with TEMPORAL_PERSISTENCE=postgres (%v)", err)
		}
		m := regexp.MustCompile(`PostgreSQL\s+postgres://app@/aftersales(\?\S+)`).FindStringSubmatch(banners[0].String())
		if m == nil {
			t.Fatalf("no PostgreSQL URL in the banner:\n%s", banners[0].String())
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, "postgres://app@/temporal"+m[1])
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = conn.QueryRow(ctx, "SELECT count(*) FROM executions WHERE workflow_id = 'probe'").Scan(&n)
		conn.Close(ctx)
		if err != nil || n != 1 {
			t.Fatalf("probe workflow rows in the temporal database: %d (%v)", n, err)
		}
		stop()
		stop = start()
		defer stop()
		tc, err = client.Dial(client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", temporalPort)})
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if _, err := tc.DescribeWorkflowExecution(ctx, "probe", ""); err != nil {
			t.Fatalf("workflow lost after restart: %v", err)
		}
		return
	}
	// The Temporal store is in WAL mode (issue 9: the pragma used to be
	// ignored): SQLite's header bytes 18-19 (file format write/read
	// versions) are 2 in WAL mode, 1 with a rollback journal.
	header := make([]byte, 20)
	if f, err := os.Open(filepath.Join(dataDir, "temporal.db")); err != nil {
		t.Fatal(err)
	} else {
		_, err = io.ReadFull(f, header)
		f.Close()
		if err != nil || header[18] != 2 || header[19] != 2 {
			t.Errorf("temporal.db is not in WAL mode: header bytes 18-19 = %d %d (%v)", header[18], header[19], err)
		}
	}
	stop()

	stop = start()
	defer stop()
	if again := readDemoTokens(t, filepath.Join(dataDir, "demo-tokens.json")); again["admin1"] != admin {
		t.Error("a restart issued new demo tokens instead of reusing the stored ones")
	}
	status, body := do(t, "GET", api+"/api/v1/calendar?from=2026-12-26&to=2026-12-26", admin, "")
	if status != 200 || !strings.Contains(body, `"source":"company"`) {
		t.Fatalf("override lost after restart: %d %s", status, body)
	}
	tc, err = client.Dial(client.Options{HostPort: fmt.Sprintf("127.0.0.1:%d", temporalPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if _, err := tc.DescribeWorkflowExecution(context.Background(), "probe", ""); err != nil {
		t.Fatalf("workflow lost after restart: %v", err)
	}
}

func waitReady(t *testing.T, url string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("Run returned before ready: %v", err)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond) // polling a readiness probe, not waiting for a timer
	}
	t.Fatal("stack not ready within 2 minutes")
}

func readDemoTokens(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var users []demo.User
	if err := json.Unmarshal(b, &users); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, u := range users {
		if u.Token == "" || len(u.Roles) == 0 {
			t.Fatalf("incomplete demo user %+v", u)
		}
		out[u.UserID] = u.Token
	}
	return out
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TEMPORAL_PERSISTENCE is sqlite or postgres; postgres means the local
// cluster, so it refuses an external Temporal or PostgreSQL rather than
// being ignored.
func TestTemporalPersistenceConfig(t *testing.T) {
	for _, c := range []struct {
		persistence, temporal, database string
		wantErr                         string
	}{
		{"", "", "", ""},
		{"sqlite", "", "", ""},
		{"postgres", "", "", ""},
		{"postgres", "temporal:7233", "", "unset TEMPORAL_ADDRESS and DATABASE_URL"},
		{"postgres", "", "postgres://db/x", "unset TEMPORAL_ADDRESS and DATABASE_URL"},
		{"mysql", "", "", `must be sqlite or postgres, not "mysql"`},
	} {
		t.Setenv("TEMPORAL_PERSISTENCE", c.persistence)
		t.Setenv("TEMPORAL_ADDRESS", c.temporal)
		t.Setenv("DATABASE_URL", c.database)
		dev, err := loadDevConfig()
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", c, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%+v: error %v, want one containing %q", c, err, c.wantErr)
		case err == nil && dev.temporalPersistence != cmp.Or(c.persistence, "sqlite"):
			t.Errorf("%+v: persistence %q", c, dev.temporalPersistence)
		}
	}
}
