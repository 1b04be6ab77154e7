package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/oauth2"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/server"
)

// Issue 12 (R1): single sign-on with OpenID Connect against a real
// in-process provider (mockoidc): the provider's JWT access tokens on the
// API, and the console's authorization-code sign-in in Chromium. The
// provider says who a person is; what they may do comes from this
// service's tables.

// oidcStack is a stack whose server has single sign-on on, with agent1
// and manager1 linked to provider subjects (users.oidc_subject).
type oidcStack struct {
	*stack
	idp *mockoidc.MockOIDC
}

// startOIDCStack starts the usual stack, a provider, and a second server
// over the same PostgreSQL and Temporal with OIDC configured (startStack
// builds its server without it).
func startOIDCStack(t *testing.T) *oidcStack {
	t.Helper()
	base := startStack(t)
	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Shutdown() })
	cfg := idp.Config()
	ctx := context.Background()
	q := db.New(base.pool)
	sso, err := auth.NewOIDC(ctx, auth.OIDCConfig{IssuerURL: cfg.Issuer, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, Audience: cfg.ClientID}, q)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	srv, err := server.New(server.Options{
		Logger: quiet, Pool: base.pool, Temporal: base.temporal, Location: loc, TaskQueue: "e2e-" + t.Name(),
		Registry: prometheus.NewRegistry(), PublicationWindow: publicationWindow, OIDC: sso,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	for user, subject := range map[string]string{"agent1": "sso-agent1", "manager1": "sso-manager1"} {
		if err := q.SetUserOIDCSubject(ctx, db.SetUserOIDCSubjectParams{ID: user, OidcSubject: &subject}); err != nil {
			t.Fatal(err)
		}
	}
	s := *base
	s.url, s.srv = hs.URL, srv
	return &oidcStack{stack: &s, idp: idp}
}

// accessToken signs subject in at the provider through its real endpoints
// (authorize, then the code exchange with PKCE) and returns the access
// token it issues.
func (o *oidcStack) accessToken(subject string) string {
	o.t.Helper()
	cfg := o.idp.Config()
	o.idp.QueueUser(&mockoidc.MockUser{Subject: subject})
	conf := oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: []string{"openid"},
		RedirectURL: "http://127.0.0.1/callback",
		Endpoint:    oauth2.Endpoint{AuthURL: o.idp.AuthorizationEndpoint(), TokenURL: o.idp.TokenEndpoint(), AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		o.t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		o.t.Fatalf("authorize answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		o.t.Fatal(err)
	}
	return tok.AccessToken
}

// signed makes a token the provider never issued: claims changed, or
// signed with another key.
func (o *oidcStack) signed(kp *mockoidc.Keypair, subject, audience string, expires time.Time) string {
	o.t.Helper()
	now := time.Now()
	tok, err := kp.SignJWT(jwt.RegisteredClaims{
		Issuer: o.idp.Issuer(), Subject: subject, Audience: jwt.ClaimStrings{audience},
		IssuedAt: jwt.NewNumericDate(now.Add(-time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(-time.Hour)),
		ExpiresAt: jwt.NewNumericDate(expires),
	})
	if err != nil {
		o.t.Fatal(err)
	}
	return tok
}

// TestR1_OIDCAccessTokens: the API takes the provider's access tokens as
// bearer tokens beside its own; every check (expiry, signature, audience,
// a known user) is a 401 when it fails; roles come from the service.
func TestR1_OIDCAccessTokens(t *testing.T) {
	o := startOIDCStack(t)
	clientID := o.idp.Config().ClientID
	hour := time.Now().Add(time.Hour)

	// A real access token: 200, as the linked user with their roles.
	manager := o.accessToken("sso-manager1")
	o.must(o.call(manager, "GET", "/api/v1/complaints", nil), 200, "manager1 by access token")
	o.must(o.call(manager, "GET", "/api/v1/clocks", nil), 200, "manager1 clocks")
	// agent1's token is theirs: an agent may not list complaints (R1).
	agent := o.accessToken("sso-agent1")
	o.must(o.call(agent, "GET", "/api/v1/clocks", nil), 200, "agent1 by access token")
	o.must(o.call(agent, "GET", "/api/v1/complaints", nil), 403, "agent1 lists complaints")
	// The service's own tokens keep working beside them.
	o.must(o.call("officer1", "GET", "/api/v1/complaints", nil), 200, "service token")

	other, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	// The control: a token made here with the provider's key passes, so
	// each forged one below fails for its one difference.
	o.must(o.call(o.signed(o.idp.Keypair, "sso-manager1", clientID, hour), "GET", "/api/v1/complaints", nil), 200, "control")
	for name, tok := range map[string]string{
		"expired":               o.signed(o.idp.Keypair, "sso-manager1", clientID, time.Now().Add(-time.Minute)),
		"signed by another key": o.signed(other, "sso-manager1", clientID, hour),
		"for another audience":  o.signed(o.idp.Keypair, "sso-manager1", "another-api", hour),
		"for an unknown user":   o.accessToken("sso-nobody"),
		"without a subject":     o.signed(o.idp.Keypair, "", clientID, hour),
	} {
		if r := o.call(tok, "GET", "/api/v1/clocks", nil); r.status != 401 {
			t.Errorf("%s: %d, want 401: %s", name, r.status, r.raw)
		}
	}

	// A deactivated user's valid token is refused too.
	if _, err := o.pool.Exec(context.Background(), `UPDATE users SET active = false WHERE id = 'agent1'`); err != nil {
		t.Fatal(err)
	}
	if r := o.call(o.accessToken("sso-agent1"), "GET", "/api/v1/clocks", nil); r.status != 401 {
		t.Errorf("deactivated user: %d, want 401", r.status)
	}

	// Key rotation: the provider signs with a new key and publishes only it;
	// the server fetches the new JWKS on the unknown key id, without a
	// restart. (The mock reads Keypair on each request.)
	o.idp.Keypair = other
	o.must(o.call(o.accessToken("sso-manager1"), "GET", "/api/v1/complaints", nil), 200, "after key rotation")
	r := o.call(o.signed(mustKeypair(t), "sso-manager1", clientID, hour), "GET", "/api/v1/clocks", nil)
	if r.status != 401 {
		t.Errorf("after rotation, a third key: %d, want 401", r.status)
	}
}

func mustKeypair(t *testing.T) *mockoidc.Keypair {
	kp, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// TestR1_OIDCBrowserSignIn: in Chromium, with the CSP enforced, the
// sign-in page's single sign-on button goes through the provider and back
// to the person's own view, on a session without a token id; an unknown
// identity gets a refusal page; a pasted token still signs in.
func TestR1_OIDCBrowserSignIn(t *testing.T) {
	o := startOIDCStack(t)

	// The CSP is unchanged: forms only to ourselves. The button's endpoint
	// redirects to the provider.
	res, err := http.Get(o.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		t.Fatalf("sign-in page CSP = %q", csp)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Get(o.url + "/console/oidc/start")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, o.idp.AuthorizationEndpoint()+"?") ||
		!strings.Contains(loc, "code_challenge_method=S256") || !strings.Contains(loc, "nonce=") || !strings.Contains(loc, "state=") {
		t.Fatalf("start: %d to %q", res.StatusCode, loc)
	}

	// A return that this browser's flow did not start (no flow cookie, or
	// another state) is refused before any code is traded: login CSRF.
	res, err = http.Get(o.url + "/console/oidc/callback?state=forged&code=whatever")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("callback without the flow's cookie: %d, want 403", res.StatusCode)
	}

	b := o.newBrowser()
	b.open("/")
	b.axe() // axe-core is injected, so this runs before the CSP is enforced
	// From here on the browser enforces the CSP, as a person's does: a
	// form-action violation on the way to the provider would stop the test.
	if _, err := chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: false}); err != nil {
		t.Fatal(err)
	}
	b.open("/")
	b.waitText("#sso", "Sign in with single sign-on")

	o.idp.QueueUser(&mockoidc.MockUser{Subject: "sso-agent1"})
	b.run(click("#sso"), chromedp.WaitVisible(chromedp.CSS("header.top")))
	if got := b.path(); got != "/console/me" {
		t.Errorf("agent1 by single sign-on lands on %s, want /console/me", got)
	}
	b.waitText("header.top", "Li Wei")
	b.shot("oidc-agent1")
	var withoutToken bool
	if err := o.pool.QueryRow(context.Background(),
		`SELECT bool_and(token_id IS NULL) FROM console_sessions WHERE user_id = 'agent1'`).Scan(&withoutToken); err != nil || !withoutToken {
		t.Errorf("agent1's session has a token id (or none exists): %v", err)
	}
	b.signOut()

	// Someone the provider knows and the service does not.
	o.idp.QueueUser(&mockoidc.MockUser{Subject: "sso-stranger"})
	b.run(click("#sso"))
	b.waitText("h1", "Sign-in refused")
	b.waitText(".flash.error", "not linked to any user")
	b.shot("oidc-refused")

	// A provider's token pasted into the token field is refused: the
	// session could not end with it (single sign-on is the button).
	b.open("/")
	b.run(typeInto("#token", o.accessToken("sso-agent1")), submit("#token"))
	b.waitText(".flash.error", "not valid")

	// Pasted service tokens keep working on the same page.
	b.signIn("manager1")
	if got := b.path(); got != "/console/team" {
		t.Errorf("manager1 by pasted token lands on %s", got)
	}
}
