// Package console is the browser console of issue 10, served by the server
// binary at / (sign-in) and /console/...: server-rendered html/template
// pages, htmx for in-place actions (vendored from npm, see
// static/vendor/VERSIONS), a little vanilla JS for countdowns and live
// updates over server-sent events. Same origin as the API; every asset is
// embedded, so it works offline.
//
// Why this stack: the people using it need exact, live clocks and one-click
// actions, not an offline-capable app; rendering on the server keeps every
// rule and authorization decision in Go, in one place with the JSON API,
// and leaves no build step or node_modules to the operator.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
)

//go:embed static templates
var files embed.FS

// Options are the console's dependencies.
type Options struct {
	Log *slog.Logger
	// Pool is the read model's PostgreSQL; its change notices drive the
	// pages' live updates (Run).
	Pool *pgxpool.Pool
	// API is the JSON API the pages read and act through.
	API API
	// Tokens checks the bearer token pasted at sign-in.
	Tokens   auth.Authenticator
	Sessions *auth.SessionStore
	// Location is the calendar's zone (R2): every time is shown in it,
	// with its offset.
	Location *time.Location
	// SecureCookies marks the cookies Secure (HTTPS deployments). Browsers
	// accept Secure cookies from http://localhost too, but not from other
	// plain-HTTP hosts, so make run leaves it off.
	SecureCookies bool
	// OIDC, when set, offers single sign-on on the sign-in page (oidc.go);
	// OIDCRedirectURL is its callback as registered at the provider ("":
	// derived from the request).
	OIDC            *auth.OIDC
	OIDCRedirectURL string
}

// Console serves the pages.
type Console struct {
	log      *slog.Logger
	tokens   auth.Authenticator
	sessions *auth.SessionStore
	loc      *time.Location
	secure   bool
	// oidc is nil when single sign-on is off.
	oidc         *auth.OIDC
	oidcRedirect string
	pool         *pgxpool.Pool
	q            *db.Queries
	api          API
	hub          *hub
	// base holds the layout and the sign-in page; pages each page's own
	// set (the layout plus that page's "page" and its partials), so every
	// page may define "page".
	base  *template.Template
	pages map[string]*template.Template
}

// New parses the templates.
func New(o Options) (*Console, error) {
	if o.Log == nil || o.Pool == nil || o.API == nil || o.Tokens == nil || o.Sessions == nil || o.Location == nil {
		return nil, errors.New("console: Log, Pool, API, Tokens, Sessions and Location are required")
	}
	base, err := template.New("console").Funcs(funcs).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		t, err := template.Must(base.Clone()).ParseFS(files, name)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return &Console{log: o.Log, tokens: o.Tokens, sessions: o.Sessions, loc: o.Location, secure: o.SecureCookies,
		pool: o.Pool, q: db.New(o.Pool), api: o.API, hub: newHub(), base: base, pages: pages,
		oidc: o.OIDC, oidcRedirect: o.OIDCRedirectURL}, nil
}

// Mount adds the console's routes to r.
func (c *Console) Mount(r chi.Router) {
	static, _ := fs.Sub(files, "static")
	r.Group(func(r chi.Router) {
		r.Use(securityHeaders, http.NewCrossOriginProtection().Handler)
		r.Handle("/console/static/*", http.StripPrefix("/console/static/", cacheStatic(http.FileServerFS(static))))
		r.Get("/", c.signInPage)
		r.Post("/console/signin", c.signIn)
		c.oidcRoutes(r)
		r.Group(func(r chi.Router) {
			r.Use(c.withSession, c.checkCSRF)
			r.Post("/console/signout", c.signOut)
			r.Get("/console", c.home)
			r.Get("/console/events", c.events)
			c.pageRoutes(r)
		})
	})
}

// securityHeaders: a CSP without inline script or style, no framing, no
// MIME sniffing, no referrer to other sites, and pages never cached (they
// hold personal data and CSRF tokens).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// cacheStatic lets browsers keep the embedded assets for an hour (they
// change only with the binary).
func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

type signInData struct {
	CSRF  string
	Error string
	SSO   bool // single sign-on is offered
}

// signInPage is /: the sign-in form, or the person's home when signed in.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return
	}
	c.renderSignIn(w, r, http.StatusOK, "")
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, msg string) {
	token, err := newToken()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, preSessionCookie, token, time.Now().Add(time.Hour))
	c.render(w, r, status, "", "signin", signInData{CSRF: token, Error: msg, SSO: c.oidc != nil})
}

// signIn trades a pasted bearer token for a session cookie. The token is
// checked like the API's and then forgotten: the session remembers only
// its id, so revoking the token signs the browser out.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	pre, err := r.Cookie(preSessionCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), pre.Value) {
		c.renderSignIn(w, r, http.StatusForbidden, "The sign-in form expired. Please paste your token again.")
		return
	}
	token := r.PostFormValue("token")
	p, err := c.tokens.Authenticate(r.Context(), token)
	// Only the service's own tokens are pasted here: the session remembers
	// the token's id to end with it, and a provider's JWT has no such id
	// (its sign-in is the single sign-on button).
	if err == nil && !auth.IsServiceToken(token) {
		err = auth.ErrUnauthenticated
	}
	if errors.Is(err, auth.ErrUnauthenticated) {
		c.renderSignIn(w, r, http.StatusUnauthorized, "That token is not valid: it is unknown, expired or revoked.")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cookie, sess, err := c.sessions.Start(r.Context(), p, auth.TokenID(token))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.clearCookie(w, preSessionCookie)
	c.setCookie(w, sessionCookie, cookie, sess.Expires)
	c.log.Info("console sign-in", "user_id", p.UserID)
	http.Redirect(w, r, "/console", http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.sessions.End(r.Context(), ck.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// home sends each person to the view of their role (R1).
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.FromContext(r.Context())
	http.Redirect(w, r, homeOf(p), http.StatusSeeOther)
}

func homeOf(p auth.Principal) string {
	switch {
	case p.Has(auth.EscalationOfficer):
		return "/console/board"
	case p.Has(auth.HR):
		return "/console/hr"
	case p.Has(auth.Manager):
		return "/console/team"
	case p.Has(auth.Committee):
		return "/console/approvals"
	case p.Has(auth.Admin):
		return "/console/admin"
	default:
		return "/console/me"
	}
}

// render executes template name of page's set ("" for the base set: the
// sign-in page). A template error is the console's bug: logged, and the
// page ends where it failed.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	t := c.base
	if page != "" {
		t = c.pages[page]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, name, data); err != nil {
		c.log.ErrorContext(r.Context(), "render", "page", page, "template", name, "error", err)
	}
}

// fail answers an error no person can fix by changing their input: a
// dependency down (PostgreSQL, Temporal) or a bug, logged. 503 with
// Retry-After, as the API answers.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.ErrorContext(r.Context(), "console", "error", err)
	c.answer(w, r, &problem{Status: http.StatusServiceUnavailable, RetryAfter: "5",
		Message: "the service cannot answer just now; please try again in a few seconds"})
}

type sessionCtxKey struct{}

func contextWithSession(ctx context.Context, s auth.Session) context.Context {
	return context.WithValue(ctx, sessionCtxKey{}, s)
}

func sessionFrom(ctx context.Context) (auth.Session, bool) {
	s, ok := ctx.Value(sessionCtxKey{}).(auth.Session)
	return s, ok
}
