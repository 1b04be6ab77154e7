// Command server is the production HTTP API. It reads its configuration from
// the environment only (README: Configuration) and needs a Temporal cluster
// and PostgreSQL; it does not link the Temporal server.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/acme/aftersales/config"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	log := cfg.Logger()
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	opts := cfg.Temporal
	opts.Logger = sdklog.NewStructuredLogger(log)
	// Lazy: the API starts even while Temporal is down; /readyz says so.
	tc, err := client.NewLazyClient(opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	srv, err := server.New(server.Options{Logger: log, Pool: pool, Temporal: tc, Location: cfg.Location, TaskQueue: cfg.TaskQueue})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	log.Info("serving HTTP", "addr", l.Addr().String())
	return server.Serve(ctx, l, srv, log)
}
