// Command migrate applies the embedded PostgreSQL migrations (`migrate` or
// `migrate up`) or lists them (`migrate status`). DATABASE_URL says where.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/acme/aftersales/cmd/internal/boot"
	"github.com/acme/aftersales/migrations"
)

func main() {
	boot.Main("migrate", func(ctx context.Context) error { return run(ctx, os.Args[1:]) })
}

func run(ctx context.Context, args []string) error {
	cmd := "up"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd != "up" && cmd != "status" {
		return fmt.Errorf("unknown command %q (want up or status)", cmd)
	}
	env, err := boot.Load(ctx)
	if err != nil {
		return err
	}
	pool := env.Pool
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
