// Package telemetry is the service's OpenTelemetry tracing: one trace from
// an HTTP request through the Temporal client, the workflow and its
// activities, to PostgreSQL (issue 11). Traces are exported by OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, and not at all otherwise; the exporter, sampler and resource read
// the standard OTEL_* variables themselves.
//
// The instrumented parts (otelhttp, the Temporal interceptor, otelpgx)
// take the global provider and propagator, the idiom of OpenTelemetry, so
// a process installs them once (Setup) and tests swap them.
//
// No personal data goes into a span: HTTP spans carry the route, not the
// query or body; SQL spans the statement text with its $n placeholders,
// never the arguments (R7).
package telemetry

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Enabled reports whether the environment asks for traces.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the W3C propagator and, when Enabled, a provider that
// exports by OTLP/gRPC as service (OTEL_SERVICE_NAME wins). shutdown
// flushes what is buffered; call it on the way out.
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service)))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, err
	}
	// resource.WithFromEnv (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) last, so the operator's names win.
	env, _ := resource.New(ctx, resource.WithFromEnv())
	if merged, err := resource.Merge(res, env); err == nil {
		res = merged
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// TemporalInterceptor traces the Temporal client: a started workflow, its
// workflow tasks, activities, updates, signals and queries continue the
// caller's trace through the workflow's headers.
func TemporalInterceptor() (interceptor.Interceptor, error) {
	return temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{})
}

// PgxTracer traces PostgreSQL statements, without their arguments. A span
// is named after the sqlc query ("ListOpenClocks"), else the statement's
// first word.
func PgxTracer() pgx.QueryTracer {
	return otelpgx.NewTracer(otelpgx.WithSpanNameFunc(queryName))
}

// queryName is "Name" of sqlc's "-- name: Name :many" first line, else the
// statement's first word (SELECT, BEGIN ...): low cardinality either way.
func queryName(stmt string) string {
	stmt = strings.TrimSpace(stmt)
	if rest, ok := strings.CutPrefix(stmt, "-- name: "); ok {
		if name, _, ok := strings.Cut(rest, " "); ok {
			return name
		}
	}
	if word, _, _ := strings.Cut(stmt, " "); word != "" && !strings.HasPrefix(word, "--") {
		return strings.ToUpper(word)
	}
	return "SQL"
}
