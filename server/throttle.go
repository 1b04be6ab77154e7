package server

import (
	"net"
	"net/http"
	"time"

	"github.com/go-chi/httprate"
)

// Failed authentication is throttled per client: after authFailureLimit
// bad tokens within authFailureWindow, a client's further bad tokens get
// 429 with Retry-After instead of 401. A valid token always works, from any
// client: only failures count, so an attacker sharing an address (a NAT, a
// load balancer) cannot lock real users out. The client is the connection's
// address (RemoteAddr): behind a proxy that is the proxy, which then
// shares one budget of failures; forwarded headers are not trusted.
const (
	authFailureLimit  = 20
	authFailureWindow = time.Minute
)

// failureLimiter counts failures per client (httprate's sliding window).
type failureLimiter struct{ rl *httprate.RateLimiter }

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{rl: httprate.NewRateLimiter(limit, window,
		// OnLimit sets Retry-After; writeError writes the api.md body.
		httprate.WithResponseHeaders(httprate.ResponseHeaders{RetryAfter: "Retry-After"}))}
}

// fail records one failure of r's client and reports whether the client is
// now over its budget (Retry-After is then set on w).
func (l *failureLimiter) fail(w http.ResponseWriter, r *http.Request) bool {
	return l.rl.OnLimit(w, r, clientKey(r))
}

func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return httprate.CanonicalizeIP(host)
}

var errThrottled = &apiError{Status: http.StatusTooManyRequests, Code: "too_many_failures",
	Message: "too many requests with an invalid bearer token from this client; wait for Retry-After seconds"}
