// Command worker is the production Temporal worker. It reads its
// configuration from the environment only and does not link the Temporal server.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/acme/aftersales/config"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
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
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	if err := worker.EnsureSearchAttributes(ctx, tc, opts.Namespace); err != nil {
		// Not fatal: on a managed cluster an operator registers them (README).
		log.Warn("custom search attributes not ensured", "error", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w := worker.New(tc, cfg.TaskQueue, worker.Deps{Pool: pool, Registry: reg, WebhookURL: cfg.WebhookURL, Logger: log})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", "task_queue", cfg.TaskQueue, "namespace", opts.Namespace, "metrics", cfg.MetricsAddr)
	// The worker's business metrics (complaint clocks, escalations) on their own listener.
	metrics := &http.Server{Addr: cfg.MetricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := metrics.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Error("metrics listener", "error", err)
		}
	}()
	<-ctx.Done()
	w.Stop()
	return metrics.Close()
}
