// Command worker is the production Temporal worker. It reads its
// configuration from the environment only and does not link the Temporal server.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/cmd/internal/boot"
	"github.com/acme/aftersales/worker"
)

func main() { boot.Main("worker", run) }

func run(ctx context.Context) error {
	env, err := boot.Load(ctx)
	if err != nil {
		return err
	}
	defer env.Pool.Close()
	cfg, log := env.Config, env.Log
	// One registry for the process: the business metrics, the Go runtime
	// and the Temporal SDK's own (task slots, pollers, sticky cache,
	// schedule-to-start latency), all served on METRICS_ADDR.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	sdkMetrics, sdkMetricsClose := worker.NewSDKMetricsHandler(reg, log)
	defer sdkMetricsClose.Close() // deferred first, so it runs after the client's and worker's stop
	opts := env.Temporal
	opts.MetricsHandler = sdkMetrics
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	if err := worker.EnsureSearchAttributes(ctx, tc, env.Temporal.Namespace); err != nil {
		// Not fatal: on a managed cluster an operator registers them (README).
		log.Warn("custom search attributes not ensured", "error", err)
	}
	if err := worker.EnsureSchedule(ctx, tc, cfg.TaskQueue, cfg.Location.String()); err != nil {
		log.Warn("monthly assessment schedule not ensured", "error", err)
	}
	w := worker.New(tc, cfg.TaskQueue, worker.Deps{Pool: env.Pool, Registry: reg, WebhookURL: cfg.WebhookURL, WebhookSecrets: cfg.WebhookSecrets, Logger: log,
		StickyTimeout: cfg.StickyTimeout, CacheSize: cfg.CacheSize})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", "task_queue", cfg.TaskQueue, "namespace", env.Temporal.Namespace, "metrics", cfg.MetricsAddr)
	// The worker's metrics (business and Temporal SDK) on their own listener.
	metrics := &http.Server{Addr: cfg.MetricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := metrics.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "error", err)
		}
	}()
	<-ctx.Done()
	w.Stop()
	return metrics.Close()
}
