package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A dependency that is down or overloaded is 503 with Retry-After and the
// api.md error body (code "unavailable", fields naming postgres or
// temporal), never a 500 and never a hang: every /api request runs under
// a deadline (Options.RequestTimeout, 10 s by default).

// retryAfter is what a client should wait before retrying after a 503:
// about how long a restarted PostgreSQL or Temporal frontend takes to
// answer again.
const retryAfter = 5 * time.Second

// unavailable is the 503 of a dependency (postgres, temporal).
func unavailable(dependency, problem string) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: dependency + " is unavailable; retry after a few seconds",
		Fields:  map[string]string{dependency: problem}, retryAfter: retryAfter}
}

// dependencyError maps an error that is not an *apiError: a dependency
// being down or slow is a 503 naming it; anything else is nil (a bug).
func dependencyError(err error) *apiError {
	switch {
	case postgresDown(err):
		return unavailable("postgres", "not reachable or not answering")
	case temporalDown(err):
		return unavailable("temporal", "not reachable, overloaded, or no worker answered in time")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// Past the deadline, or the client went away (then nobody reads this).
		return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: "the request took longer than its deadline; retry after a few seconds", retryAfter: retryAfter}
	}
	return nil
}

// isUnavailable reports whether err is a dependency being down or slow.
func isUnavailable(err error) bool { return dependencyError(err) != nil }

// postgresDown: connecting failed, the connection broke, the server is
// shutting down or out of resources (SQLSTATE classes 08, 53, 57P), or a
// pgx operation timed out.
func postgresDown(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
	)
	switch {
	case errors.As(err, &connectErr), pgconn.Timeout(err):
		return true
	case errors.As(err, &pgErr):
		c := pgErr.Code
		return len(c) == 5 && (c[:2] == "08" || c[:2] == "53" || c[:3] == "57P")
	}
	// A connection lost mid-query (pgx reports it as a net error) or a pool closed.
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, net.ErrClosed)
}

// temporalDown: the frontend is unreachable, overloaded or timed out.
func temporalDown(err error) bool {
	var (
		unavail   *serviceerror.Unavailable
		deadline  *serviceerror.DeadlineExceeded
		exhausted *serviceerror.ResourceExhausted
		canceled  *serviceerror.Canceled
	)
	if errors.As(err, &unavail) || errors.As(err, &deadline) || errors.As(err, &exhausted) || errors.As(err, &canceled) {
		return true
	}
	if st, ok := status.FromError(err); ok {
		switch st.Code() {
		case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted:
			return true
		}
	}
	return false
}

// withDeadline bounds every request below it by d, so no dependency can
// hold a caller longer; past it the handler's calls fail and the answer is
// a 503.
func withDeadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

func retryAfterHeader(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) }
