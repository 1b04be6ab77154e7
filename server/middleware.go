package server

import (
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// httpMetrics are labelled by chi's route pattern, never the raw path, so
// label cardinality stays bounded and no identifier leaks into metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests by method (the standard ones, else other), route pattern and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// methodLabel bounds the method label: any client may send any token as a
// method (net/http accepts them), and each new one would otherwise become
// new series in every HTTP metric. The standard methods keep their name;
// anything else is "other".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "other"
}

// observe is the outermost middleware: it times the request, records the
// metrics and writes the access log once the router has resolved the route.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		reqID := middleware.GetReqID(r.Context())
		ww.Header().Set("X-Request-Id", reqID)
		log := s.log.With(slog.String("request_id", reqID))
		span := trace.SpanFromContext(r.Context())
		if sc := span.SpanContext(); sc.IsValid() { // one id to find the request's trace from its log lines
			log = log.With(slog.String("trace_id", sc.TraceID().String()))
		}
		st := &reqState{log: log}
		r = r.WithContext(withReqState(r.Context(), st))

		next.ServeHTTP(ww, r)

		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		method := methodLabel(r.Method)
		span.SetName(method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(ww.Status())).Inc()
		s.metrics.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
		// The access log names the route and the path, never the query
		// string or body: those may carry customer names or phones (R7).
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("duration", elapsed),
		}
		st.log.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
	})
}

// recoverer turns a panic into a logged 500 with the api.md error body.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger(r).ErrorContext(r.Context(), "panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				writeError(w, r, errInternal)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
