// Command migrate applies the embedded PostgreSQL migrations (`migrate` or
// `migrate up`), lists them (`migrate status`), or creates the first admin
// of a fresh production database (`migrate bootstrap-admin --id ID --name
// NAME [--force]`, see bootstrap.go). DATABASE_URL says where.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/acme/aftersales/cmd/internal/boot"
	"github.com/acme/aftersales/migrations"
)

func main() {
	boot.Main("migrate", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

// run is the command; stdout gets what a script may capture (the
// bootstrap token), stderr what a person should read.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "up"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd != "up" && cmd != "status" && cmd != "bootstrap-admin" {
		return fmt.Errorf("unknown command %q (want up, status or bootstrap-admin)", cmd)
	}
	var opts bootstrapOptions
	if cmd == "bootstrap-admin" {
		var err error
		if opts, err = parseBootstrap(args[1:], stderr); err != nil {
			return err
		}
	}
	env, err := boot.Load(ctx)
	if err != nil {
		return err
	}
	pool := env.Pool
	defer pool.Close()
	switch cmd {
	case "bootstrap-admin":
		return bootstrapAdmin(ctx, pool, opts, stdout, stderr)
	case "status":
		st, err := migrations.Status(ctx, pool)
		if err != nil {
			return err
		}
		for _, m := range st {
			fmt.Fprintf(stdout, "%-8s %s\n", m.State, m.Source.Path)
		}
		return nil
	}
	res, err := migrations.Up(ctx, pool)
	for _, r := range res {
		fmt.Fprintf(stdout, "applied %s (%s)\n", r.Source.Path, r.Duration)
	}
	if err == nil && len(res) == 0 {
		fmt.Fprintln(stdout, "up to date")
	}
	return err
}
