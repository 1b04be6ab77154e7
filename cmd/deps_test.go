// Package cmd_test checks the production entry points.
package cmd_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The production binaries talk to Temporal through the SDK only: none of
// them may link the Temporal server (only cmd/dev, the dev launcher, does).
func TestProductionBinariesDoNotLinkTemporalServer(t *testing.T) {
	for _, pkg := range []string{"./server", "./worker", "./migrate"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("%s: suspiciously few deps: %v", pkg, deps)
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "go.temporal.io/server") {
				t.Errorf("%s links %s", pkg, d)
			}
		}
	}
	// The check itself can fail: the dev launcher does link the server.
	out, err := exec.Command("go", "list", "-deps", "./dev").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "go.temporal.io/server/temporal\n") {
		t.Fatalf("the dev launcher should link the Temporal server: %v", err)
	}
}
