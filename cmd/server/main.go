// Command server is the production HTTP API. It reads its configuration from
// the environment only (README: Configuration) and needs a Temporal cluster
// and PostgreSQL; it does not link the Temporal server.
package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/cmd/internal/boot"
	"github.com/acme/aftersales/config"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/server"
	"github.com/acme/aftersales/worker"
)

func main() { boot.Main("server", run) }

func run(ctx context.Context) error {
	env, err := boot.Load(ctx)
	if err != nil {
		return err
	}
	defer env.Pool.Close()
	// One registry, served at /metrics: HTTP, Go runtime, and the Temporal
	// client's own metrics (request latency and failures to the cluster).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sdkMetrics, sdkMetricsClose := worker.NewSDKMetricsHandler(reg, env.Log)
	defer sdkMetricsClose.Close() // deferred first, so it runs after the client's close
	opts := env.Temporal
	opts.MetricsHandler = sdkMetrics
	// Lazy: the API starts even while Temporal is down; /readyz says so.
	tc, err := client.NewLazyClient(opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	cfg := env.Config
	sso, err := newOIDC(ctx, cfg.OIDC, env.Pool)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{Logger: env.Log, Pool: env.Pool, Temporal: tc, Registry: reg, Location: cfg.Location, TaskQueue: cfg.TaskQueue, PublicationWindow: cfg.PublicationWindow, RequestTimeout: cfg.RequestTimeout, SecureCookies: cfg.SecureCookies,
		OIDC: sso, OIDCRedirectURL: cfg.OIDC.RedirectURL})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	env.Log.Info("serving HTTP", "addr", l.Addr().String())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return server.Serve(gctx, l, srv, env.Log) })
	// Completes creates a crash interrupted (server/reconcile.go) and relays change notices to the console.
	g.Go(func() error { return srv.Run(gctx) })
	return g.Wait()
}

// newOIDC discovers the single sign-on provider (issue 12); nil when it is
// not configured. A provider that cannot be reached stops the start: the
// server would otherwise refuse every sign-on without saying why.
func newOIDC(ctx context.Context, c config.OIDC, pool *pgxpool.Pool) (*auth.OIDC, error) {
	if !c.Enabled() {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return auth.NewOIDC(ctx, auth.OIDCConfig{IssuerURL: c.IssuerURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		Audience: c.Audience, UserClaim: c.UserClaim}, db.New(pool))
}
