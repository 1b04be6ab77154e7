// Package boot is what the production entry points share: the environment
// configuration, the logger, the PostgreSQL pool and the Temporal client
// options, plus main's signal handling and exit code.
package boot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/acme/aftersales/config"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/telemetry"
)

// Main runs run until SIGINT/SIGTERM, printing its error as "name: error".
// Traces go out by OTLP when the environment asks (package telemetry).
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdown, err := telemetry.Setup(ctx, "aftersales-"+name)
	if err == nil {
		err = run(ctx)
		flush, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = shutdown(flush)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		stop()
		os.Exit(1)
	}
}

// Env is a configured process: close Pool when done.
type Env struct {
	Config   config.Config
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Temporal client.Options // with the process logger
}

// Load reads the environment and connects to PostgreSQL.
func Load(ctx context.Context) (Env, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return Env{}, err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return Env{}, err
	}
	log := cfg.Logger()
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return Env{}, err
	}
	opts := cfg.Temporal
	opts.Logger = sdklog.NewStructuredLogger(log)
	tracing, err := telemetry.TemporalInterceptor()
	if err != nil {
		pool.Close()
		return Env{}, err
	}
	opts.Interceptors = append(opts.Interceptors, tracing)
	return Env{Config: cfg, Log: log, Pool: pool, Temporal: opts}, nil
}
