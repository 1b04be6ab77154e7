package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/acme/aftersales/auth"
)

// Cookie names. The session cookie is HttpOnly and SameSite=Strict: no
// script reads it and no other site's page sends it.
const (
	sessionCookie = "aftersales_session"
	// preSessionCookie carries the sign-in form's CSRF token (double
	// submit), before any session exists.
	preSessionCookie = "aftersales_signin"
)

func (c *Console) setCookie(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
}

func (c *Console) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
}

// withSession resolves the session cookie. Without a live session a page
// request is sent to the sign-in page and an htmx request is told to go
// there (HX-Redirect); a dependency that is down is a 503 page.
func (c *Console) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := c.session(r)
		if errors.Is(err, auth.ErrUnauthenticated) {
			c.clearCookie(w, sessionCookie)
			if r.Header.Get("HX-Request") != "" {
				w.Header().Set("HX-Redirect", "/")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		ctx := auth.WithPrincipal(r.Context(), sess.Principal)
		ctx = contextWithSession(ctx, sess)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (c *Console) session(r *http.Request) (auth.Session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Session{}, auth.ErrUnauthenticated
	}
	return c.sessions.Lookup(r.Context(), ck.Value)
}

// checkCSRF refuses a state-changing request that does not carry the
// session's token, in the form field "csrf" or the X-CSRF-Token header
// (htmx sends it from the body's hx-headers). Go's cross-origin protection
// (Sec-Fetch-Site, Origin) runs before it as a second line.
func (c *Console) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		sess, _ := sessionFrom(r.Context())
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.PostFormValue("csrf")
		}
		if !sameToken(got, sess.CSRF) {
			c.answer(w, r, &problem{Status: http.StatusForbidden,
				Message: "this form has expired or did not come from this console; reload the page and try again"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
