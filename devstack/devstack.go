// Package devstack is `make run`: the whole service in one process tree on
// embedded defaults (an in-process Temporal server with its Web UI, a local
// PostgreSQL cluster, migrations, worker, HTTP server and demo users).
// TEMPORAL_ADDRESS and DATABASE_URL switch it to real ones. It links the
// Temporal server, so it is for development only; production runs
// cmd/server, cmd/worker and cmd/migrate.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on PPROF_ADDR
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"golang.org/x/sync/errgroup"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/config"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/localpg"
	"github.com/acme/aftersales/migrations"
	"github.com/acme/aftersales/server"
	"github.com/acme/aftersales/telemetry"
	"github.com/acme/aftersales/worker"
	"github.com/acme/aftersales/workflows"
)

// Dev-only settings, on top of config.Config.
type devConfig struct {
	dataDir      string // DATA_DIR
	temporalPort int    // TEMPORAL_DEV_PORT: the embedded frontend
	uiPort       int    // TEMPORAL_UI_PORT: the embedded Web UI
	pprofAddr    string // PPROF_ADDR: Go's profiler for the whole process, off when unset
	// TEMPORAL_PERSISTENCE: where the embedded Temporal server keeps its
	// data, "sqlite" (DATA_DIR/temporal.db) or "postgres" (databases
	// temporal and temporal_visibility in the local PostgreSQL cluster).
	temporalPersistence string
}

// Databases of the embedded Temporal server with TEMPORAL_PERSISTENCE=postgres.
const (
	temporalDatabase           = "temporal"
	temporalVisibilityDatabase = "temporal_visibility"
)

func loadDevConfig() (devConfig, error) {
	c := devConfig{dataDir: envOr("DATA_DIR", ".data"), pprofAddr: os.Getenv("PPROF_ADDR"),
		temporalPersistence: envOr("TEMPORAL_PERSISTENCE", "sqlite")}
	var err1, err2 error
	c.temporalPort, err1 = strconv.Atoi(envOr("TEMPORAL_DEV_PORT", "7233"))
	c.uiPort, err2 = strconv.Atoi(envOr("TEMPORAL_UI_PORT", "8233"))
	if err1 != nil || err2 != nil {
		return c, fmt.Errorf("TEMPORAL_DEV_PORT and TEMPORAL_UI_PORT must be port numbers")
	}
	switch c.temporalPersistence {
	case "sqlite":
	case "postgres":
		// Both would be silently ignored otherwise: the embedded server
		// is not started with TEMPORAL_ADDRESS, and its databases live
		// in the local cluster, never in a PostgreSQL someone else runs.
		if os.Getenv("TEMPORAL_ADDRESS") != "" || os.Getenv("DATABASE_URL") != "" {
			return c, fmt.Errorf("TEMPORAL_PERSISTENCE=postgres is the embedded Temporal server on the local PostgreSQL cluster: unset TEMPORAL_ADDRESS and DATABASE_URL")
		}
	default:
		return c, fmt.Errorf("TEMPORAL_PERSISTENCE must be sqlite or postgres, not %q", c.temporalPersistence)
	}
	abs, err := filepath.Abs(c.dataDir)
	c.dataDir = abs
	return c, err
}

func envOr(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// Run runs the stack until ctx ends (Ctrl-C), then stops every part in
// reverse order. The banner goes to out.
func Run(ctx context.Context, out io.Writer) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	dev, err := loadDevConfig()
	if err != nil {
		return err
	}
	// make run serves plain HTTP: Secure cookies only when asked for.
	cfg.SecureCookies = os.Getenv("SECURE_COOKIES") == "true"
	log := cfg.Logger()
	if err := os.MkdirAll(dev.dataDir, 0o755); err != nil {
		return err
	}
	// Cleanups run in reverse order of start, on every return path.
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	// PostgreSQL.
	dbURL, pgStop := cfg.DatabaseURL, ""
	var temporalStore *PostgresStore
	if dbURL == "" {
		log.Info("starting local PostgreSQL", "dir", filepath.Join(dev.dataDir, "postgres"))
		pgOpts := localpg.Options{
			Dir:  filepath.Join(dev.dataDir, "postgres"),
			Logf: func(f string, a ...any) { log.Info(fmt.Sprintf(f, a...)) },
		}
		if dev.temporalPersistence == "postgres" {
			pgOpts.Settings = map[string]string{"max_connections": strconv.Itoa(PostgresMaxConnections)}
		}
		cluster, err := localpg.Start(ctx, pgOpts)
		if err != nil {
			return err
		}
		cleanups = append(cleanups, func() {
			if err := cluster.Stop(); err != nil {
				log.Warn("stop PostgreSQL", "error", err)
			}
		})
		if err := cluster.CreateDatabase(ctx, "aftersales"); err != nil {
			return err
		}
		dbURL, pgStop = cluster.URL("aftersales"), cluster.StopCommand()
		if dev.temporalPersistence == "postgres" {
			if temporalStore, err = TemporalStoreIn(ctx, cluster); err != nil {
				return err
			}
		}
	}
	pool, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, pool.Close)
	if _, err := migrations.Up(ctx, pool); err != nil {
		return err
	}

	// Temporal.
	opts := cfg.Temporal
	opts.Logger = sdklog.NewStructuredLogger(log.With("component", "temporal-sdk"))
	tracing, err := telemetry.TemporalInterceptor()
	if err != nil {
		return err
	}
	opts.Interceptors = append(opts.Interceptors, tracing)
	uiURL := "(external Temporal: use its own UI)"
	if os.Getenv("TEMPORAL_ADDRESS") == "" {
		if temporalStore != nil {
			log.Info("starting embedded Temporal server", "postgres", temporalStore.Database+", "+temporalStore.VisibilityDatabase)
		} else {
			log.Info("starting embedded Temporal server", "db", filepath.Join(dev.dataDir, "temporal.db"))
		}
		t, err := StartTemporal(TemporalOptions{
			DBFile:            filepath.Join(dev.dataDir, "temporal.db"),
			Postgres:          temporalStore,
			LogFile:           filepath.Join(dev.dataDir, "temporal.log"),
			IP:                "127.0.0.1",
			Port:              dev.temporalPort,
			UIPort:            dev.uiPort,
			Namespace:         opts.Namespace,
			SearchAttributes:  workflows.SearchAttributes,
			DynamicConfigFile: os.Getenv("TEMPORAL_DYNAMIC_CONFIG"),
		})
		if err != nil {
			return err
		}
		cleanups = append(cleanups, func() {
			if err := t.Stop(); err != nil {
				log.Warn("stop Temporal", "error", err)
			}
		})
		opts.HostPort, uiURL = t.Address, t.UIURL
	}
	// One process, one registry: the worker's business metrics, the
	// Temporal SDK's (made from this client, so the worker's task slots,
	// pollers and sticky cache, and the server's requests) and the HTTP
	// server's all join the server's /metrics.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sdkMetrics, sdkMetricsClose := worker.NewSDKMetricsHandler(reg, log)
	cleanups = append(cleanups, func() { _ = sdkMetricsClose.Close() }) // runs after the client's close
	opts.MetricsHandler = sdkMetrics
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal: %w", err)
	}
	cleanups = append(cleanups, tc.Close)
	if err := worker.EnsureSearchAttributes(ctx, tc, opts.Namespace); err != nil {
		return err
	}
	if err := worker.EnsureSchedule(ctx, tc, cfg.TaskQueue, cfg.Location.String()); err != nil {
		return err
	}

	users, err := demo.SeedWithTokenFile(ctx, pool, filepath.Join(dev.dataDir, "demo-tokens.json"))
	if err != nil {
		return err
	}

	sticky, cache := cfg.StickyTimeout, cfg.CacheSize
	if sticky == 0 {
		sticky = worker.OneWorkerStickyTimeout
	}
	if cache == 0 {
		cache = worker.OneWorkerCacheSize
	}
	w := worker.New(tc, cfg.TaskQueue, worker.Deps{Pool: pool, Registry: reg, WebhookURL: cfg.WebhookURL, WebhookSecrets: cfg.WebhookSecrets, Logger: log,
		StickyTimeout: sticky, CacheSize: cache})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	cleanups = append(cleanups, w.Stop)

	var sso *auth.OIDC
	if cfg.OIDC.Enabled() { // single sign-on against the developer's provider (README: Single sign-on)
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		sso, err = auth.NewOIDC(dctx, auth.OIDCConfig{IssuerURL: cfg.OIDC.IssuerURL, ClientID: cfg.OIDC.ClientID,
			ClientSecret: cfg.OIDC.ClientSecret, Audience: cfg.OIDC.Audience, UserClaim: cfg.OIDC.UserClaim}, db.New(pool))
		cancel()
		if err != nil {
			return err
		}
	}
	srv, err := server.New(server.Options{Logger: log, Pool: pool, Temporal: tc, Location: cfg.Location, TaskQueue: cfg.TaskQueue, Registry: reg, PublicationWindow: cfg.PublicationWindow, RequestTimeout: cfg.RequestTimeout, SecureCookies: cfg.SecureCookies,
		OIDC: sso, OIDCRedirectURL: cfg.OIDC.RedirectURL})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP listen on %s (set HTTP_ADDR to change it): %w", cfg.HTTPAddr, err)
	}
	printBanner(out, banner{
		api: "http://" + l.Addr().String(), ui: uiURL, dbURL: dbURL, pgStop: pgStop,
		dataDir: dev.dataDir, temporal: opts.HostPort, users: users,
	})

	g, gctx := errgroup.WithContext(ctx)
	if dev.pprofAddr != "" {
		// The profile of issue 9 (where a burst's time goes: SQLite, the
		// Temporal server, the service). Development only: its own
		// listener, never the API's.
		pl, err := net.Listen("tcp", dev.pprofAddr)
		if err != nil {
			return fmt.Errorf("PPROF_ADDR: %w", err)
		}
		ps := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 5 * time.Second}
		g.Go(func() error { <-gctx.Done(); return ps.Close() })
		g.Go(func() error {
			if err := ps.Serve(pl); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}
	g.Go(func() error { return server.Serve(gctx, l, srv, log) })
	g.Go(func() error { return srv.Run(gctx) })
	err = g.Wait()
	log.Info("shutting down")
	return err
}

type banner struct {
	api, ui, dbURL, pgStop, dataDir, temporal string
	users                                     []demo.User
}

func printBanner(out io.Writer, b banner) {
	p := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }
	p("")
	p("  After-sales performance service is running (Ctrl-C stops every part)")
	p("")
	p("  Console        %s/   (sign in with a token below)", b.api)
	p("  API            %s   (OpenAPI: %s/openapi.json)", b.api, b.api)
	p("  Temporal UI    %s", b.ui)
	p("  Temporal gRPC  %s", b.temporal)
	p("  PostgreSQL     %s", b.dbURL)
	if b.pgStop != "" {
		p("  stop Postgres  %s", b.pgStop)
	}
	p("  data dir       %s", b.dataDir)
	p("")
	p("  Demo users and bearer tokens (also in %s):", filepath.Join(b.dataDir, "demo-tokens.json"))
	for _, u := range b.users {
		roles, _ := json.Marshal(u.Roles)
		p("    %-11s %-22s %-7s %s", u.UserID, roles, orDash(u.TeamID), u.Token)
	}
	p("")
	token := b.users[0].Token
	for _, u := range b.users {
		if u.UserID == "admin1" {
			token = u.Token
		}
	}
	p("  Try:")
	p(`    curl -s -H "Authorization: Bearer %s" '%s/api/v1/calendar?from=2026-09-28&to=2026-10-12'`, token, b.api)
	p("")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
