// Command migrate applies the embedded PostgreSQL migrations (`migrate` or
// `migrate up`) or lists them (`migrate status`). DATABASE_URL says where.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/acme/aftersales/config"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cmd := "up"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd != "up" && cmd != "status" {
		return fmt.Errorf("unknown command %q (want up or status)", cmd)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cmd == "status" {
		st, err := migrations.Status(ctx, pool)
		if err != nil {
			return err
		}
		for _, m := range st {
			fmt.Printf("%-8s %s\n", m.State, m.Source.Path)
		}
		return nil
	}
	res, err := migrations.Up(ctx, pool)
	for _, r := range res {
		fmt.Printf("applied %s (%s)\n", r.Source.Path, r.Duration)
	}
	if err == nil && len(res) == 0 {
		fmt.Println("up to date")
	}
	return err
}
