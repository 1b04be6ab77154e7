// Command dev is `make run`: the whole service on embedded defaults
// (see package devstack). Development only.
package main

import (
	"context"
	"os"

	"github.com/acme/aftersales/cmd/internal/boot"
	"github.com/acme/aftersales/devstack"
)

func main() {
	boot.Main("dev", func(ctx context.Context) error { return devstack.Run(ctx, os.Stdout) })
}
