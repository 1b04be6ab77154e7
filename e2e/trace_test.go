package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/server/temporaltest"

	"github.com/acme/aftersales/telemetry"
)

// Issue 11: one trace follows a complaint from its POST to its escalation
// notice: the HTTP request, the Temporal client's start, the workflow, its
// activities (the notice among them) and their PostgreSQL statements, all
// in one trace, recorded in memory. And no span carries the customer's
// name or phone (R7).
func TestTraceFollowsAComplaintFromItsPOSTToItsEscalationNotice(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })
	tracing, err := telemetry.TemporalInterceptor()
	if err != nil {
		t.Fatal(err)
	}
	s := startStack(t, withTemporal(temporaltest.WithBaseClientOptions(client.Options{Interceptors: []interceptor.ClientInterceptor{tracing}})))

	// Received three days ago: its contact clock is missed at once, and the
	// workflow sends the escalation notice.
	c := complaintBody("TR-1")
	c["customer"] = map[string]any{"name": "王秘密", "phone": "+86 139 1234 5678"}
	c["received_at"] = time.Now().AddDate(0, 0, -3).Format(time.RFC3339)
	s.must(s.call("officer1", "POST", "/api/v1/complaints", c), 201, "create")

	var post sdktrace.ReadOnlySpan
	names := func() []string {
		var out []string
		for _, sp := range rec.Ended() {
			if post == nil && sp.Name() == "POST /api/v1/complaints" {
				post = sp
			}
			if post != nil && sp.SpanContext().TraceID() == post.SpanContext().TraceID() {
				out = append(out, sp.Name())
			}
		}
		return out
	}
	want := []string{
		"POST /api/v1/complaints",         // otelhttp, named by route
		"InsertComplaintIntake",           // the intake row, in the request (otelpgx)
		"UpdateWithStartWorkflow:created", // the Temporal client starts the workflow
		"HandleUpdate:created",            // ... which continues the request's trace
		"RunActivity:SyncComplaint",       // the read model, from the workflow
		"InsertEscalation",                // ... its statements: the escalation
		"RunActivity:Notify",              // the escalation notice
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got := names()
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return slices.Contains(got, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			all := []string{}
			for _, sp := range rec.Ended() {
				all = append(all, sp.Name()+"@"+sp.SpanContext().TraceID().String()[:6])
			}
			t.Fatalf("the POST's trace lacks %v; it has %v; all spans: %v", missing, got, all)
		}
	}
	for _, sp := range rec.Ended() {
		for _, kv := range sp.Attributes() {
			if v := kv.Value.Emit(); strings.Contains(v, "王秘密") || strings.Contains(v, "1234 5678") || strings.Contains(v, "12345678") {
				t.Errorf("span %s carries personal data in %s", sp.Name(), kv.Key)
			}
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("spans of the trace: %v", names())
	}
}
