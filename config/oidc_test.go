package config

import (
	"strings"
	"testing"
)

// Issue 12: single sign-on is off unless configured, complete when on, and
// its URLs are checked at start-up rather than at the first sign-in.
func TestR1_OIDCConfig(t *testing.T) {
	base := map[string]string{"TEMPORAL_CONFIG_FILE": "/nonexistent"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := Load(lookup(base))
	if err != nil || c.OIDC.Enabled() {
		t.Fatalf("unset: enabled=%v err=%v", c.OIDC.Enabled(), err)
	}
	c, err = Load(lookup(with("OIDC_ISSUER_URL", "https://id.example.com/realms/acme", "OIDC_CLIENT_ID", "console",
		"OIDC_CLIENT_SECRET", "s3cret", "OIDC_AUDIENCE", "aftersales-api")))
	if err != nil {
		t.Fatal(err)
	}
	if !c.OIDC.Enabled() || c.OIDC.UserClaim != "sub" || c.OIDC.Audience != "aftersales-api" || c.OIDC.ClientSecret != "s3cret" {
		t.Fatalf("oidc = %+v", c.OIDC)
	}
	if _, err := Load(lookup(with("OIDC_ISSUER_URL", "http://127.0.0.1:5556", "OIDC_CLIENT_ID", "c", "OIDC_AUDIENCE", "a",
		"OIDC_USER_CLAIM", "email"))); err != nil {
		t.Fatalf("loopback http issuer: %v", err)
	}
	for name, env := range map[string]map[string]string{
		"OIDC_AUDIENCE":     with("OIDC_ISSUER_URL", "https://id.example.com", "OIDC_CLIENT_ID", "c"),
		"OIDC_ISSUER_URL":   with("OIDC_CLIENT_ID", "c", "OIDC_AUDIENCE", "a"),
		"OIDC_REDIRECT_URL": with("OIDC_ISSUER_URL", "https://id.example.com", "OIDC_CLIENT_ID", "c", "OIDC_AUDIENCE", "a", "OIDC_REDIRECT_URL", "https://x/elsewhere"),
	} {
		if _, err := Load(lookup(env)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := Load(lookup(with("OIDC_ISSUER_URL", "http://id.example.com", "OIDC_CLIENT_ID", "c", "OIDC_AUDIENCE", "a"))); err == nil {
		t.Error("plain http issuer off loopback accepted")
	}
}
