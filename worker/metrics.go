package worker

import (
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// SDKLatencyBuckets are the buckets, in seconds, of every Temporal SDK
// timer exported as a Prometheus histogram (the tally reporter takes one
// set for all of them). They span a workflow task's few milliseconds of
// execution up to a burst's schedule-to-start backlog (issue 9 measured
// p99 escalations 140 s late at 2,000 due at one instant) with room for
// worse; the SDK's default (1 ms-10 s) would put such a burst in +Inf.
// Workflow end-to-end latency (complaints live for days) lands in +Inf:
// the business histograms (complaint_time_to_*_seconds) cover case
// durations.
var SDKLatencyBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
}

// sdkReportInterval is how often the tally scope hands what the SDK
// recorded to the Prometheus collectors: a scrape sees it at most this late.
const sdkReportInterval = time.Second

// NewSDKMetricsHandler returns a Temporal client MetricsHandler that
// exports the SDK's own metrics (task slots, pollers, sticky cache,
// schedule-to-start latency, workflow task failures, request failures) into
// reg, the same registry as the business metrics, so one /metrics serves
// both. Set it as client.Options.MetricsHandler before dialling: every
// worker made from that client reports through it.
//
// Names follow the SDK's Prometheus convention (contrib/tally's
// PrometheusSanitizeOptions and NewPrometheusNamingScope): counters end in
// _total, timers are histograms in seconds ending in _seconds, e.g.
// temporal_workflow_task_schedule_to_start_latency_seconds. No prefix is
// added: the SDK's names already start with temporal_.
//
// Close the returned closer after the workers and the client have stopped:
// it stops the reporting loop and flushes the last values.
func NewSDKMetricsHandler(reg prometheus.Registerer, log *slog.Logger) (client.MetricsHandler, io.Closer) {
	if log == nil {
		log = slog.Default()
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{
		Registerer:              reg,
		DefaultTimerType:        tallyprom.HistogramTimerType,
		DefaultHistogramBuckets: SDKLatencyBuckets,
		// The reporter panics by default when a metric cannot be
		// registered (a name the SDK emits with two different tag sets);
		// losing one SDK series must not take the worker down.
		OnRegisterError: func(err error) {
			log.Warn("temporal sdk metric not exported", "error", err)
		},
	})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		// tally's own cardinality gauges (tally_internal_*_cardinality)
		// break Prometheus naming (promtool check metrics flags them) and
		// tell an operator nothing the SDK's metrics do not.
		OmitCardinalityMetrics: true,
	}, sdkReportInterval)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)), closer
}
