package worker

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The SDK's metrics reach the registry with the SDK's Prometheus names
// (counters _total, timers as histograms in seconds with SDKLatencyBuckets),
// and a metric the reporter cannot register is logged, never a panic.
func TestSDKMetricsHandlerNamesAndUnits(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logged bytes.Buffer
	h, closer := NewSDKMetricsHandler(reg, slog.New(slog.NewTextHandler(&logged, nil)))
	h.WithTags(map[string]string{"task_queue": "q"}).Counter("temporal_workflow_completed").Inc(2)
	h.WithTags(map[string]string{"task_queue": "q"}).Timer("temporal_workflow_task_schedule_to_start_latency").Record(90 * time.Second)
	h.WithTags(map[string]string{"task_queue": "q"}).Gauge("temporal_sticky_cache_size").Update(7)
	// The same name with another tag set: tally's Prometheus reporter
	// cannot register it (its default reaction is a panic).
	h.WithTags(map[string]string{"other": "x"}).Gauge("temporal_sticky_cache_size").Update(1)
	if err := closer.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "temporal sdk metric not exported") {
		t.Errorf("the clashing gauge was not logged: %q", logged.String())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf
	}
	if mf := got["temporal_workflow_completed_total"]; mf == nil || mf.GetType() != dto.MetricType_COUNTER || mf.Metric[0].GetCounter().GetValue() != 2 {
		t.Errorf("counter: %v", mf)
	}
	if mf := got["temporal_sticky_cache_size"]; mf == nil || mf.GetType() != dto.MetricType_GAUGE || mf.Metric[0].GetGauge().GetValue() != 7 {
		t.Errorf("gauge: %v", mf)
	}
	mf := got["temporal_workflow_task_schedule_to_start_latency_seconds"]
	if mf == nil || mf.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("timer: %v", mf)
	}
	hist := mf.Metric[0].GetHistogram()
	var bounds []float64
	for _, b := range hist.Bucket {
		bounds = append(bounds, b.GetUpperBound())
	}
	if hist.GetSampleSum() != 90 || !slices.Equal(bounds, SDKLatencyBuckets) {
		t.Errorf("timer: sum %v s, buckets %v", hist.GetSampleSum(), bounds)
	}
	for name := range got {
		if strings.HasPrefix(name, "tally_") {
			t.Errorf("tally's own metric %s is exported", name)
		}
	}
}
