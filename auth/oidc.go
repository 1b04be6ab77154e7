package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/acme/aftersales/db"
)

// OIDCConfig is the OpenID Connect provider the service trusts (issue 12).
type OIDCConfig struct {
	// IssuerURL is the provider's issuer; its discovery document and JWKS
	// are fetched from it.
	IssuerURL string
	// ClientID and ClientSecret are the console's client at the provider
	// (authorization-code flow). The ID token's audience is ClientID.
	ClientID     string
	ClientSecret string
	// Audience is the "aud" the API requires of a JWT access token.
	Audience string
	// UserClaim names the claim matched against users.oidc_subject; ""
	// means "sub".
	UserClaim string
	// HTTPClient, when set, is used to talk to the provider (tests).
	HTTPClient *http.Client
}

// OIDC checks the provider's tokens and maps them to this service's users.
// The provider says who a person is, never what they may do: roles and
// team come from the service's own tables, as for bearer tokens.
type OIDC struct {
	q        *db.Queries
	claim    string
	client   *http.Client
	provider *oidc.Provider
	// access verifies API bearer JWTs (aud = Audience); id verifies the
	// console's ID tokens (aud = ClientID). Both use the provider's remote
	// key set, which fetches the JWKS again when a token carries a key id
	// it has not seen: the provider can rotate keys without a restart.
	access *oidc.IDTokenVerifier
	id     *oidc.IDTokenVerifier
	oauth  oauth2.Config
}

// ErrUnknownUser means a valid provider token names no user of this
// service; ErrInactiveUser one whose user is deactivated. Both wrap
// ErrUnauthenticated, so the API answers 401 without saying which; the
// console tells the person.
var (
	ErrUnknownUser  = fmt.Errorf("%w: no user has this single sign-on identity", ErrUnauthenticated)
	ErrInactiveUser = fmt.Errorf("%w: the user is deactivated", ErrUnauthenticated)
)

// NewOIDC discovers the provider at cfg.IssuerURL. ctx bounds discovery
// only; the key set outlives it.
func NewOIDC(ctx context.Context, cfg OIDCConfig, q *db.Queries) (*OIDC, error) {
	if cfg.IssuerURL == "" || cfg.ClientID == "" || cfg.Audience == "" {
		return nil, errors.New("auth: OIDC needs an issuer URL, a client id and an audience")
	}
	o := &OIDC{q: q, claim: cfg.UserClaim, client: cfg.HTTPClient}
	if o.claim == "" {
		o.claim = "sub"
	}
	if o.client == nil {
		o.client = http.DefaultClient
	}
	p, err := oidc.NewProvider(o.ctx(ctx), cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("oidc discovery at %s: %w", cfg.IssuerURL, err)
	}
	o.provider = p
	// RS256 is go-oidc's default; the provider may sign with another
	// asymmetric algorithm its discovery document lists. Only those: never
	// "none", and never HMAC, whose key would be the client secret.
	var algs []string
	var meta struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&meta); err == nil {
		for _, a := range meta.Algs {
			if slices.Contains(asymmetricAlgs, a) {
				algs = append(algs, a)
			}
		}
	}
	o.access = p.Verifier(&oidc.Config{ClientID: cfg.Audience, SupportedSigningAlgs: algs})
	o.id = p.Verifier(&oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: algs})
	o.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID},
	}
	return o, nil
}

var asymmetricAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// ctx carries the HTTP client go-oidc and x/oauth2 use for the provider.
func (o *OIDC) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.client)
}

// Authenticate implements Authenticator for a JWT access token: issuer,
// audience, expiry (and not-before) and signature are checked by go-oidc
// against the provider's JWKS; then the user is looked up by the claim.
func (o *OIDC) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	tok, err := o.access.Verify(o.ctx(ctx), bearer)
	if err != nil {
		// Every reason (expired, another key, another audience, not a JWT)
		// is one answer, so tokens cannot be probed; a provider that cannot
		// be reached for its keys is also a refusal, not a 503: the caller
		// can do nothing else about it either.
		return Principal{}, ErrUnauthenticated
	}
	p, err := o.principal(ctx, tok)
	if errors.Is(err, ErrUnauthenticated) {
		return Principal{}, ErrUnauthenticated
	}
	return p, err
}

// principal maps a verified token to the user named by its claim.
func (o *OIDC) principal(ctx context.Context, tok *oidc.IDToken) (Principal, error) {
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, ErrUnauthenticated
	}
	subject, _ := claims[o.claim].(string)
	if subject == "" {
		return Principal{}, ErrUnknownUser
	}
	row, err := o.q.PrincipalByOIDCSubject(ctx, subject)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrUnknownUser
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up single sign-on user: %w", err)
	}
	if !row.Active {
		return Principal{}, ErrInactiveUser
	}
	return principal(row.UserID, row.Name, row.TeamID, row.Roles, row.ManagedTeams), nil
}

// SignIn is one browser's authorization-code flow in progress: what the
// console keeps (in a short-lived cookie) between sending the browser to
// the provider and its return.
type SignIn struct {
	State, Nonce, Verifier string
}

// NewSignIn draws a fresh state, nonce and PKCE verifier.
func NewSignIn() (SignIn, error) {
	state, err := randomString(24)
	if err != nil {
		return SignIn{}, err
	}
	nonce, err := randomString(24)
	if err != nil {
		return SignIn{}, err
	}
	return SignIn{State: state, Nonce: nonce, Verifier: oauth2.GenerateVerifier()}, nil
}

// AuthCodeURL is where to send the browser: the provider's authorization
// endpoint with state, nonce and the PKCE S256 challenge.
func (o *OIDC) AuthCodeURL(s SignIn, redirectURL string) string {
	c := o.oauth
	c.RedirectURL = redirectURL
	return c.AuthCodeURL(s.State, oidc.Nonce(s.Nonce), oauth2.S256ChallengeOption(s.Verifier))
}

// Exchange completes the flow: trades code (with the PKCE verifier) for
// tokens, verifies the ID token and its nonce, and returns the user. The
// caller has already matched state. ErrUnknownUser and ErrInactiveUser say
// the provider vouched for someone this service does not let in.
func (o *OIDC) Exchange(ctx context.Context, s SignIn, redirectURL, code string) (Principal, error) {
	c := o.oauth
	c.RedirectURL = redirectURL
	tok, err := c.Exchange(o.ctx(ctx), code, oauth2.VerifierOption(s.Verifier))
	if err != nil {
		return Principal{}, fmt.Errorf("%w: code exchange: %v", ErrUnauthenticated, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Principal{}, fmt.Errorf("%w: the provider sent no ID token", ErrUnauthenticated)
	}
	id, err := o.id.Verify(o.ctx(ctx), raw)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: ID token: %v", ErrUnauthenticated, err)
	}
	if id.Nonce == "" || !sameString(id.Nonce, s.Nonce) {
		return Principal{}, fmt.Errorf("%w: ID token nonce does not match", ErrUnauthenticated)
	}
	return o.principal(ctx, id)
}

// Bearer is the API's Authenticator: the one home for "who is calling".
// A credential of the service's own shape "<id>.<secret>" goes to the token
// table (scripts, the demo); anything else, when single sign-on is on, is
// taken for the provider's JWT access token.
type Bearer struct {
	Tokens *TokenStore
	OIDC   *OIDC // nil: single sign-on is off
}

// Authenticate implements Authenticator.
func (b Bearer) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if IsServiceToken(bearer) || b.OIDC == nil {
		return b.Tokens.Authenticate(ctx, bearer)
	}
	return b.OIDC.Authenticate(ctx, bearer)
}

// IsServiceToken reports whether bearer has the shape of the service's own
// tokens: one dot, a base64url id and secret. A JWT has two dots.
func IsServiceToken(bearer string) bool {
	id, secret, ok := splitCredential(bearer)
	return ok && base64URL(id) && !strings.Contains(secret, ".")
}

func sameString(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
