// Package db is the typed SQL of the service: queries live in queries/*.sql
// and sqlc generates the Go (committed; `make generate` refreshes it).
package db

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/aftersales/telemetry"
)

// Open connects a pool to url and checks it answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	// The queries filter with optional parameters ("$1 IS NULL OR col =
	// $1"). A generic plan, which PostgreSQL switches a cached prepared
	// statement to after five runs, must serve every combination, so it
	// cannot use the index one filter needs; a plan per execution folds the
	// NULLs away and uses it. Planning costs well under a millisecond here.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	cfg.ConnConfig.Tracer = telemetry.PgxTracer()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return pool, nil
}
