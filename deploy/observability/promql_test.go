package observability

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Words that stand where a metric name could but are PromQL's own:
// aggregations (which may be followed by "by"/"without" rather than a
// parenthesis), binary operators and modifiers.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true,
	"inf": true, "nan": true, "Inf": true, "NaN": true,
}

// Modifiers followed by a parenthesised list of label names.
var labelListWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names an expression selects: every
// identifier that is not a function or aggregation (followed by "("), not
// a PromQL word, and not inside label matchers {...}, a range [...], a
// label list after by/without/on/ignoring/group_*, a string, or a Grafana
// variable ($name, ${name}). It is not a full parser, but it is enough for
// the expressions this package writes, and TestMetricNamesOfPromQL pins it.
func metricNames(expr string) []string {
	var names []string
	isStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' }
	// skipTo returns the index just past the bracket closing the one at i,
	// stepping over strings inside.
	skipTo := func(i int, open, close byte) int {
		depth := 0
		for ; i < len(expr); i++ {
			switch c := expr[i]; {
			case c == '"' || c == '\'' || c == '`':
				j := i + 1
				for j < len(expr) && expr[j] != c {
					if expr[j] == '\\' && c != '`' {
						j++
					}
					j++
				}
				i = j
			case c == open:
				depth++
			case c == close:
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	nextNonSpace := func(i int) byte {
		for ; i < len(expr); i++ {
			if c := expr[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return c
			}
		}
		return 0
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '{':
			i = skipTo(i, '{', '}')
		case c == '[':
			i = skipTo(i, '[', ']')
		case c == '$': // a Grafana variable
			i++
			if i < len(expr) && expr[i] == '{' {
				i = skipTo(i, '{', '}')
			}
			for i < len(expr) && isPart(expr[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.': // a number or a duration
			for i < len(expr) && (isPart(expr[i]) || expr[i] == '.') {
				i++
			}
		case isStart(c):
			j := i
			for j < len(expr) && isPart(expr[j]) {
				j++
			}
			word := expr[i:j]
			i = j
			switch {
			case labelListWords[word]:
				k := i
				for k < len(expr) && strings.IndexByte(" \t\r\n", expr[k]) >= 0 {
					k++
				}
				if k < len(expr) && expr[k] == '(' {
					i = skipTo(k, '(', ')')
				}
			case promqlWords[word], nextNonSpace(i) == '(':
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func TestMetricNamesOfPromQL(t *testing.T) {
	for expr, want := range map[string][]string{
		`histogram_quantile(0.99, sum by (le, task_queue) (rate(temporal_workflow_task_schedule_to_start_latency_seconds_bucket{namespace="$ns"}[$__rate_interval])))`: {"temporal_workflow_task_schedule_to_start_latency_seconds_bucket"},
		`sum without (instance) (rate(http_requests_total{code=~"5..",route!="/x{y}"}[5m])) / ignoring(code) group_left sum(rate(http_requests_total[5m])) > 0.05`:     {"http_requests_total", "http_requests_total"},
		`complaint_open_escalations > 0 and on() (time() - 3600) > bool 1`:                                                                                             {"complaint_open_escalations"},
		`absent(temporal_num_pollers{poller_type="workflow_task", job="${job}"}) or max(reward_steps_overdue offset 1h) by (job)`:                                      {"temporal_num_pollers", "reward_steps_overdue"},
		`sum(increase(complaint_escalations_total[1h])) by (level) / 2e3`:                                                                                              {"complaint_escalations_total"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}

// dashboardExprs returns every PromQL expression in the dashboard: each
// panel target's "expr", wherever it is nested (rows hold panels too).
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("grafana/aftersales.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("grafana/aftersales.json: %v", err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(exprs) == 0 {
		t.Fatal("the dashboard has no PromQL expression")
	}
	return exprs
}

// alertRule is the part of a Prometheus alerting rule the tests read.
type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func alertRules(t *testing.T) []alertRule {
	t.Helper()
	raw, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("prometheus/alerts.yaml: %v", err)
	}
	var rules []alertRule
	for _, g := range doc.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// Every alert carries what the operator needs: a severity, a summary and a
// runbook link into README.md, and has unit tests in alerts_test.yaml.
func TestEveryAlertHasSeveritySummaryRunbookAndTests(t *testing.T) {
	tests, err := os.ReadFile("prometheus/alerts_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rules := alertRules(t)
	if len(rules) == 0 {
		t.Fatal("no alert rules")
	}
	for _, r := range rules {
		if r.Alert == "" {
			continue // a recording rule
		}
		if s := r.Labels["severity"]; s != "page" && s != "ticket" {
			t.Errorf("%s: severity %q, want page or ticket", r.Alert, s)
		}
		if r.Annotations["summary"] == "" {
			t.Errorf("%s: no summary annotation", r.Alert)
		}
		rb := r.Annotations["runbook"]
		anchor, ok := strings.CutPrefix(rb, "deploy/observability/README.md#")
		if !ok || !strings.Contains(string(readme), "<a id=\""+anchor+"\"></a>") {
			t.Errorf("%s: runbook %q does not point at an anchor in README.md", r.Alert, rb)
		}
		// Each alert is named in at least two test cases: one where it
		// fires, one where it must not.
		if n := strings.Count(string(tests), "alertname: "+r.Alert+"\n"); n < 2 {
			t.Errorf("%s: %d alert test cases in alerts_test.yaml, want one that fires and one that does not", r.Alert, n)
		}
	}
}
