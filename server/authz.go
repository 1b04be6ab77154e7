package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/acme/aftersales/auth"
)

// reqState is per-request state shared by the middleware chain: the logger
// (carrying the request id) and, once authenticated, the caller.
type reqState struct {
	log *slog.Logger
}

type reqStateKey struct{}

func withReqState(ctx context.Context, st *reqState) context.Context {
	return context.WithValue(ctx, reqStateKey{}, st)
}

// logger returns the request's logger (with its request id).
func logger(r *http.Request) *slog.Logger {
	if st, ok := r.Context().Value(reqStateKey{}).(*reqState); ok {
		return st.log
	}
	return slog.Default()
}

// authenticate resolves the bearer token to a Principal or answers 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := inProcessPrincipal(r); ok { // the console's Call
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="aftersales"`)
			writeError(w, r, errUnauthenticated)
			return
		}
		p, err := s.auth.Authenticate(r.Context(), strings.TrimSpace(token))
		if errors.Is(err, auth.ErrUnauthenticated) {
			if s.authFailures.fail(w, r) { // see throttle.go
				writeError(w, r, errThrottled)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="aftersales", error="invalid_token"`)
			writeError(w, r, errUnauthenticated)
			return
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if st, ok := r.Context().Value(reqStateKey{}).(*reqState); ok {
			st.log = st.log.With(slog.String("user_id", p.UserID))
		}
		next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

// principal returns the authenticated caller. Routes behind authenticate
// always have one.
func principal(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

// Resource is what an access rule needs to know about the object a request
// acts on: the teams it belongs to and the people who own it (an assignee,
// an appellant, a nominee ...).
type Resource struct {
	TeamIDs  []string
	OwnerIDs []string
}

// Access declares, per route, who may call it (R1, R7). This is the one
// authorization layer: handlers never check roles themselves.
//
// A caller passes when they hold one of Roles; or one of TeamRoles and they
// manage a team of the resource; or one of OwnerRoles and they are among its
// owners. Team and owner checks need Resource, which loads the resource's
// team and owners from the request (e.g. by the path's id); a 404 from it
// is answered as such.
type Access struct {
	Roles      []auth.Role
	TeamRoles  []auth.Role
	OwnerRoles []auth.Role
	Resource   func(r *http.Request) (Resource, error)
}

// anyone is any authenticated user.
var anyone = Access{Roles: auth.AllRoles}

// only is a rule granting roles on everything.
func only(roles ...auth.Role) Access { return Access{Roles: roles} }

// allows reports whether p may act on res under a.
func (a Access) allows(p auth.Principal, res Resource) bool {
	if p.Has(a.Roles...) {
		return true
	}
	if p.Has(a.TeamRoles...) && slices.ContainsFunc(res.TeamIDs, p.Manages) {
		return true
	}
	return p.Has(a.OwnerRoles...) && slices.Contains(res.OwnerIDs, p.UserID)
}

// needsResource reports whether the rule may depend on the resource.
func (a Access) needsResource() bool { return len(a.TeamRoles)+len(a.OwnerRoles) > 0 }

// authorize is the middleware form of an Access rule.
func authorize(a Access) func(http.Handler) http.Handler {
	if a.needsResource() && a.Resource == nil {
		panic("server: an Access rule with team or owner roles needs a Resource loader")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Malformed path parameters are 400 before any loader reads them.
			if err := checkPath(r); err != nil {
				writeError(w, r, err)
				return
			}
			p := principal(r)
			var res Resource
			// Load the resource only when roles alone do not decide.
			if !p.Has(a.Roles...) && a.needsResource() && p.Has(slices.Concat(a.TeamRoles, a.OwnerRoles)...) {
				var err error
				if res, err = a.Resource(r); err != nil {
					writeError(w, r, err)
					return
				}
			}
			if !a.allows(p, res) {
				writeError(w, r, errForbidden)
				return
			}
			if isDryRun(r) { // Allowed asks only this question
				w.WriteHeader(http.StatusNoContent)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
