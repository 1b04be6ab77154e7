// Package config reads the production entry points' configuration from the
// environment, the only place they take it from (12-factor). Every variable,
// its default and its meaning is listed in README.md.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/acme/aftersales/activities/webhook"
)

// Config is everything the worker, the HTTP server and migrate need.
type Config struct {
	HTTPAddr    string         // HTTP_ADDR
	DatabaseURL string         // DATABASE_URL
	TaskQueue   string         // TEMPORAL_TASK_QUEUE
	Location    *time.Location // TIME_ZONE (R2)
	LogLevel    slog.Level     // LOG_LEVEL
	LogJSON     bool           // LOG_FORMAT=json
	WebhookURL  string         // NOTIFY_WEBHOOK_URL: warnings and escalations (R3); empty logs them
	MetricsAddr string         // METRICS_ADDR: the worker's /metrics listener
	// WebhookSecrets (NOTIFY_WEBHOOK_SECRET: whsec_ secrets, comma-separated)
	// each sign every notice, so a receiver can rotate (README "Webhook
	// signatures"). They print redacted (webhook.Secret).
	WebhookSecrets []webhook.Secret
	// WebhookUnsigned (NOTIFY_WEBHOOK_UNSIGNED=true) is the explicit opt-out
	// that lets NOTIFY_WEBHOOK_URL go without a secret; see checkWebhook.
	WebhookUnsigned bool
	// PublicationWindow (ASSESSMENT_PUBLICATION_WINDOW, a Go duration) replaces
	// the 3-working-day publication window: for demos and tests only.
	PublicationWindow time.Duration
	// RequestTimeout (REQUEST_TIMEOUT, a Go duration, default 10s) bounds
	// every /api request; past it the answer is 503 (server.Options).
	RequestTimeout time.Duration
	// StickyTimeout (WORKER_STICKY_TIMEOUT, a Go duration) is how long a
	// workflow's next task waits for the worker holding it in cache before
	// any worker may take it; unset: the SDK's 5 s (make run: 1 min). See
	// worker.Options.
	StickyTimeout time.Duration
	// CacheSize (WORKER_CACHE_SIZE) is how many workflows a worker keeps in
	// memory between tasks; unset (0): worker.DefaultCacheSize (make run:
	// worker.OneWorkerCacheSize).
	CacheSize int
	// SecureCookies (SECURE_COOKIES, default true) marks the console's
	// cookies Secure: served over HTTPS, as in production. make run serves
	// plain HTTP and turns it off.
	SecureCookies bool
	// OIDC is single sign-on (issue 12); off unless OIDC_ISSUER_URL is set.
	OIDC OIDC
	// Temporal holds the SDK client options. They are read by the SDK's own
	// envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
	// TEMPORAL_TLS_*, TEMPORAL_PROFILE ...), so the names are the ones every
	// Temporal tool uses.
	Temporal client.Options
}

// OIDC is the OpenID Connect provider the console signs in with and whose
// JWT access tokens the API accepts (README: Single sign-on).
type OIDC struct {
	IssuerURL    string // OIDC_ISSUER_URL; empty: single sign-on is off
	ClientID     string // OIDC_CLIENT_ID: the console's client
	ClientSecret string // OIDC_CLIENT_SECRET: empty for a public client (PKCE only)
	Audience     string // OIDC_AUDIENCE: the aud the API requires of access tokens
	UserClaim    string // OIDC_USER_CLAIM (default sub): matched against users.oidc_subject
	// RedirectURL (OIDC_REDIRECT_URL) is the console's callback as
	// registered at the provider; empty: derived from each request's host
	// (https unless SECURE_COOKIES=false) + /console/oidc/callback.
	RedirectURL string
}

// Enabled reports whether single sign-on is configured.
func (o OIDC) Enabled() bool { return o.IssuerURL != "" }

// DefaultOIDCUserClaim is the claim that names the user unless
// OIDC_USER_CLAIM says otherwise.
const DefaultOIDCUserClaim = "sub"

// Defaults of the variables that have one.
const (
	DefaultHTTPAddr  = "127.0.0.1:8080"
	DefaultTaskQueue = "aftersales"
	DefaultTimeZone  = "Asia/Shanghai"
	// DefaultMetricsAddr is where the standalone worker serves /metrics (the
	// HTTP server serves its own at HTTP_ADDR/metrics).
	DefaultMetricsAddr = "127.0.0.1:9464"
)

// FromEnv reads Config from the process environment.
func FromEnv() (Config, error) { return Load(os.LookupEnv) }

// Load reads Config through lookup, so tests need not touch the process
// environment.
func Load(lookup func(string) (string, bool)) (Config, error) {
	get := func(key, def string) string {
		if v, ok := lookup(key); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	var errs []error
	c := Config{
		HTTPAddr:    get("HTTP_ADDR", DefaultHTTPAddr),
		DatabaseURL: get("DATABASE_URL", ""),
		TaskQueue:   get("TEMPORAL_TASK_QUEUE", DefaultTaskQueue),
		LogJSON:     get("LOG_FORMAT", "text") == "json",
		WebhookURL:  get("NOTIFY_WEBHOOK_URL", ""),
		MetricsAddr: get("METRICS_ADDR", DefaultMetricsAddr),
	}
	loc, err := time.LoadLocation(get("TIME_ZONE", DefaultTimeZone))
	if err != nil {
		errs = append(errs, fmt.Errorf("TIME_ZONE: %w", err))
	}
	c.Location = loc
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
	}
	if f := get("LOG_FORMAT", "text"); f != "text" && f != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: want text or json, got %q", f))
	}
	c.Temporal, err = envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: envLookup(lookup)})
	if err != nil {
		errs = append(errs, fmt.Errorf("temporal client options: %w", err))
	}
	if v := get("ASSESSMENT_PUBLICATION_WINDOW", ""); v != "" {
		if c.PublicationWindow, err = time.ParseDuration(v); err != nil || c.PublicationWindow < 0 {
			errs = append(errs, fmt.Errorf("ASSESSMENT_PUBLICATION_WINDOW: want a duration like 2m, got %q", v))
		}
	}
	if v := get("REQUEST_TIMEOUT", ""); v != "" {
		if c.RequestTimeout, err = time.ParseDuration(v); err != nil || c.RequestTimeout < time.Second {
			errs = append(errs, fmt.Errorf("REQUEST_TIMEOUT: want a duration of at least 1s like 10s, got %q", v))
		}
	}
	if v := get("WORKER_STICKY_TIMEOUT", ""); v != "" {
		if c.StickyTimeout, err = time.ParseDuration(v); err != nil || c.StickyTimeout < time.Second {
			errs = append(errs, fmt.Errorf("WORKER_STICKY_TIMEOUT: want a duration of at least 1s like 5s, got %q", v))
		}
	}
	if v := get("WORKER_CACHE_SIZE", ""); v != "" {
		if c.CacheSize, err = strconv.Atoi(v); err != nil || c.CacheSize < 1 {
			errs = append(errs, fmt.Errorf("WORKER_CACHE_SIZE: want a positive number of workflows like 5000, got %q", v))
		}
	}
	switch v := get("SECURE_COOKIES", "true"); v {
	case "true", "false":
		c.SecureCookies = v == "true"
	default:
		errs = append(errs, fmt.Errorf("SECURE_COOKIES: want true or false, got %q", v))
	}
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("NOTIFY_WEBHOOK_URL: want an http(s) URL, got %q", c.WebhookURL))
		}
	}
	errs = append(errs, c.checkWebhook(get("NOTIFY_WEBHOOK_SECRET", ""), get("NOTIFY_WEBHOOK_UNSIGNED", "false"))...)
	c.OIDC = OIDC{
		IssuerURL: get("OIDC_ISSUER_URL", ""), ClientID: get("OIDC_CLIENT_ID", ""),
		ClientSecret: get("OIDC_CLIENT_SECRET", ""), Audience: get("OIDC_AUDIENCE", ""),
		UserClaim: get("OIDC_USER_CLAIM", DefaultOIDCUserClaim), RedirectURL: get("OIDC_REDIRECT_URL", ""),
	}
	errs = append(errs, c.OIDC.validate()...)
	if c.Temporal.Namespace == "" {
		c.Temporal.Namespace = "default"
	}
	return c, errors.Join(errs...)
}

// checkWebhook reads the signing secrets and applies the rule: a webhook
// URL needs a secret, unless NOTIFY_WEBHOOK_UNSIGNED=true says unsigned
// notices are meant. Failing at start-up rather than sending unsigned with a
// warning: an unsigned webhook lets anyone who learns the URL (logs, a
// proxy, a browser history) forge escalations, a warning in a busy log goes
// unread, and a receiver that verifies would reject every notice only
// after the first escalation was due. The opt-out stays, named so that it
// reads as a decision in a manifest, for a receiver that cannot verify yet
// or a local test receiver. Errors never quote a secret.
func (c *Config) checkWebhook(secrets, unsigned string) []error {
	var errs []error
	if secrets != "" {
		var err error
		if c.WebhookSecrets, err = webhook.ParseSecrets(secrets); err != nil {
			errs = append(errs, fmt.Errorf("NOTIFY_WEBHOOK_SECRET: %w", err))
		}
	}
	switch unsigned {
	case "true", "false":
		c.WebhookUnsigned = unsigned == "true"
	default:
		errs = append(errs, fmt.Errorf("NOTIFY_WEBHOOK_UNSIGNED: want true or false, got %q", unsigned))
	}
	switch {
	case c.WebhookUnsigned && secrets != "":
		// Which was meant? Refuse rather than guess.
		errs = append(errs, errors.New("NOTIFY_WEBHOOK_UNSIGNED=true contradicts NOTIFY_WEBHOOK_SECRET: unset one"))
	case c.WebhookURL != "" && secrets == "" && !c.WebhookUnsigned:
		errs = append(errs, errors.New("NOTIFY_WEBHOOK_SECRET: required with NOTIFY_WEBHOOK_URL, so the receiver can verify the notices "+
			"(generate one with: echo whsec_$(head -c 32 /dev/urandom | base64)); "+
			"set NOTIFY_WEBHOOK_UNSIGNED=true to send them unsigned on purpose"))
	}
	return errs
}

// validate: all or nothing, and URLs that can work. An issuer must be
// https, except on loopback (a provider on the developer's machine).
func (o OIDC) validate() []error {
	set := o.IssuerURL != "" || o.ClientID != "" || o.ClientSecret != "" || o.Audience != "" || o.RedirectURL != ""
	if !set {
		return nil
	}
	var errs []error
	for _, v := range []struct{ name, value string }{
		{"OIDC_ISSUER_URL", o.IssuerURL}, {"OIDC_CLIENT_ID", o.ClientID}, {"OIDC_AUDIENCE", o.Audience},
	} {
		if v.value == "" {
			errs = append(errs, fmt.Errorf("%s: required when single sign-on is configured (OIDC_* is set)", v.name))
		}
	}
	if o.IssuerURL != "" {
		u, err := url.Parse(o.IssuerURL)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			errs = append(errs, fmt.Errorf("OIDC_ISSUER_URL: want an https URL, got %q", o.IssuerURL))
		case u.Scheme == "http" && !loopback(u.Hostname()):
			errs = append(errs, fmt.Errorf("OIDC_ISSUER_URL: want https (plain http only on loopback), got %q", o.IssuerURL))
		}
	}
	if o.RedirectURL != "" {
		if u, err := url.Parse(o.RedirectURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.Path != "/console/oidc/callback" {
			errs = append(errs, fmt.Errorf("OIDC_REDIRECT_URL: want http(s)://HOST/console/oidc/callback, got %q", o.RedirectURL))
		}
	}
	if strings.ContainsAny(o.UserClaim, " \t") {
		errs = append(errs, fmt.Errorf("OIDC_USER_CLAIM: want a claim name like sub or email, got %q", o.UserClaim))
	}
	return errs
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RequireDatabase is for the entry points that cannot run without PostgreSQL.
func (c Config) RequireDatabase() error {
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL is not set (e.g. postgres://user:pass@host:5432/aftersales)")
	}
	return nil
}

// Logger builds the process logger.
func (c Config) Logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// envLookup adapts a lookup function to envconfig.EnvLookup.
type envLookup func(string) (string, bool)

func (f envLookup) LookupEnv(key string) (string, bool) { return f(key) }

// Environ is only used by envconfig for TEMPORAL_GRPC_META_* headers.
func (f envLookup) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if v, ok := f(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}
