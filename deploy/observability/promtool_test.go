package observability

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// promtool returns the path of promtool, failing the test when it is
// missing: these checks are the point of the package, so a machine without
// it must not pass quietly (.ci/run installs it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool is not on PATH: install the Debian package prometheus " +
			"(apt-get install -y --no-install-recommends prometheus; .ci/run does it) to check the alert rules and the metrics")
	}
	return p
}

// runPromtool runs promtool with args (stdin when non-nil) and returns its
// combined output; a non-zero exit fails the test with that output.
func runPromtool(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The alert rules are valid, and every alert's unit tests (each fires on a
// series that should fire it and stays silent on one that should not) pass.
func TestAlertRulesCheckAndUnitTests(t *testing.T) {
	runPromtool(t, nil, "check", "rules", "prometheus/alerts.yaml")
	runPromtool(t, nil, "test", "rules", "prometheus/alerts_test.yaml")
}
