package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/auth"
)

// Single sign-on (issue 12): the authorization-code flow with PKCE, state
// and nonce. /console/oidc/start keeps the flow's secrets in a short-lived
// cookie and redirects to the provider; the provider sends the browser back
// to /console/oidc/callback, which checks state, trades the code, checks
// the ID token and its nonce, and opens the same session as a pasted token
// does (without a token id: it ends at its own expiry or when the user is
// deactivated).
//
// The button is a link to our own endpoint, which answers 302 to the
// provider: the CSP's form-action 'self' stays as it is (a form posted to
// the provider, or redirected there, would be blocked by it).

// oidcCookie holds "<state>.<nonce>.<verifier>" during the flow.
const oidcCookie = "aftersales_oidc"

// oidcFlowTTL is how long a person may take at the provider.
const oidcFlowTTL = 10 * time.Minute

func (c *Console) oidcRoutes(r chi.Router) {
	if c.oidc == nil {
		return // off: the routes are 404 and the page shows no button
	}
	r.Get("/console/oidc/start", c.oidcStart)
	r.Get("/console/oidc/callback", c.oidcCallback)
}

func (c *Console) oidcStart(w http.ResponseWriter, r *http.Request) {
	s, err := auth.NewSignIn()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// SameSite=Lax, not Strict: the provider sends the browser back with a
	// top-level GET from its own site, and a Strict cookie would not come
	// with it. Lax still keeps it off other sites' subrequests and POSTs;
	// the path keeps it off every other page.
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: s.State + "." + s.Nonce + "." + s.Verifier, Path: "/console/oidc/",
		MaxAge: int(oidcFlowTTL / time.Second), HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, c.oidc.AuthCodeURL(s, c.redirectURL(r)), http.StatusFound)
}

func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(oidcCookie)
	// The flow's cookie is for one return only.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/console/oidc/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	var s auth.SignIn
	if err == nil {
		parts := strings.Split(ck.Value, ".")
		if len(parts) == 3 {
			s = auth.SignIn{State: parts[0], Nonce: parts[1], Verifier: parts[2]}
		}
	}
	q := r.URL.Query()
	if s.State == "" || !sameToken(q.Get("state"), s.State) {
		// No flow of this browser's, or another one's answer (login CSRF).
		c.renderSignIn(w, r, http.StatusForbidden, "The single sign-on attempt expired or did not start here. Please try again.")
		return
	}
	if e := q.Get("error"); e != "" {
		c.log.InfoContext(r.Context(), "console single sign-on refused by the provider", "error", e)
		c.renderSignIn(w, r, http.StatusUnauthorized, "The single sign-on provider did not sign you in. Please try again.")
		return
	}
	p, err := c.oidc.Exchange(r.Context(), s, c.redirectURL(r), q.Get("code"))
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		c.render(w, r, http.StatusForbidden, "", "oidc_refused",
			"Your single sign-on identity is not linked to any user of the after-sales service.")
		return
	case errors.Is(err, auth.ErrInactiveUser):
		c.render(w, r, http.StatusForbidden, "", "oidc_refused",
			"Your after-sales account is deactivated.")
		return
	case errors.Is(err, auth.ErrUnauthenticated):
		c.log.InfoContext(r.Context(), "console single sign-on failed", "error", err)
		c.renderSignIn(w, r, http.StatusUnauthorized, "Single sign-on did not complete. Please try again.")
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	cookie, sess, err := c.sessions.Start(r.Context(), p, "")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, sessionCookie, cookie, sess.Expires)
	c.log.Info("console sign-in", "user_id", p.UserID, "via", "oidc")
	c.render(w, r, http.StatusOK, "", "oidc_done", nil)
}

// redirectURL is the callback as the provider knows it: configured, or
// this request's host (https when cookies are Secure, i.e. behind TLS).
func (c *Console) redirectURL(r *http.Request) string {
	if c.oidcRedirect != "" {
		return c.oidcRedirect
	}
	scheme := "http"
	if c.secure || r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/console/oidc/callback"
}
