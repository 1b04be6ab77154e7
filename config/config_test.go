package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestDefaults(t *testing.T) {
	c, err := Load(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/nonexistent"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != DefaultHTTPAddr || c.TaskQueue != DefaultTaskQueue || c.Location.String() != "Asia/Shanghai" ||
		c.Temporal.Namespace != "default" || c.LogLevel != slog.LevelInfo || c.LogJSON ||
		c.StickyTimeout != 0 || c.CacheSize != 0 {
		t.Fatalf("defaults = %+v", c)
	}
	if c.RequireDatabase() == nil {
		t.Fatal("RequireDatabase passed without DATABASE_URL")
	}
}

func TestFromEnvironment(t *testing.T) {
	c, err := Load(lookup(map[string]string{
		"HTTP_ADDR": ":9000", "DATABASE_URL": "postgres://x/y", "TEMPORAL_ADDRESS": "temporal:7233",
		"TEMPORAL_NAMESPACE": "prod", "TIME_ZONE": "UTC", "LOG_LEVEL": "debug", "LOG_FORMAT": "json",
		"TEMPORAL_CONFIG_FILE": "/nonexistent", "WORKER_STICKY_TIMEOUT": "30s", "WORKER_CACHE_SIZE": "2000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":9000" || c.Temporal.HostPort != "temporal:7233" || c.Temporal.Namespace != "prod" ||
		c.Location.String() != "UTC" || c.LogLevel != slog.LevelDebug || !c.LogJSON || c.RequireDatabase() != nil ||
		c.StickyTimeout != 30*time.Second || c.CacheSize != 2000 {
		t.Fatalf("config = %+v", c)
	}
}

func TestBadValuesAreReportedTogether(t *testing.T) {
	_, err := Load(lookup(map[string]string{"TIME_ZONE": "Mars/Base", "LOG_LEVEL": "loud", "LOG_FORMAT": "xml", "TEMPORAL_CONFIG_FILE": "/nonexistent",
		"WORKER_STICKY_TIMEOUT": "soon", "WORKER_CACHE_SIZE": "-1"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, v := range []string{"TIME_ZONE", "LOG_LEVEL", "LOG_FORMAT", "WORKER_STICKY_TIMEOUT", "WORKER_CACHE_SIZE"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}

func whsec(b byte) string {
	return "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

func TestWebhookSecrets(t *testing.T) {
	base := map[string]string{"TEMPORAL_CONFIG_FILE": "/nonexistent", "NOTIFY_WEBHOOK_URL": "https://hooks.example/aftersales"}
	with := func(kv ...string) map[string]string {
		env := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	// Two secrets (rotation), blanks around the comma ignored.
	c, err := Load(lookup(with("NOTIFY_WEBHOOK_SECRET", whsec(1)+", "+whsec(2))))
	if err != nil || len(c.WebhookSecrets) != 2 || c.WebhookUnsigned {
		t.Fatalf("two secrets: %v, %v", c.WebhookSecrets, err)
	}
	// The explicit opt-out.
	if c, err := Load(lookup(with("NOTIFY_WEBHOOK_UNSIGNED", "true"))); err != nil || !c.WebhookUnsigned || c.WebhookSecrets != nil {
		t.Fatalf("unsigned: %+v, %v", c, err)
	}
	// No URL: nothing is required (and a secret set ahead of the URL is fine).
	if _, err := Load(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/nonexistent", "NOTIFY_WEBHOOK_SECRET": whsec(3)})); err != nil {
		t.Fatal(err)
	}
	short := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{4}, 24))
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"URL without secret": {with(), "required with NOTIFY_WEBHOOK_URL"},
		"unsigned=false":     {with("NOTIFY_WEBHOOK_UNSIGNED", "false"), "required with NOTIFY_WEBHOOK_URL"},
		"unsigned=yes":       {with("NOTIFY_WEBHOOK_UNSIGNED", "yes"), "NOTIFY_WEBHOOK_UNSIGNED: want true or false"},
		"both":               {with("NOTIFY_WEBHOOK_UNSIGNED", "true", "NOTIFY_WEBHOOK_SECRET", whsec(1)), "contradicts"},
		"short secret":       {with("NOTIFY_WEBHOOK_SECRET", short), "secret 1: want a key of 32 to 64"},
		"blank entry":        {with("NOTIFY_WEBHOOK_SECRET", whsec(1)+",,"+whsec(2)), "secret 2 is empty"},
		"repeated":           {with("NOTIFY_WEBHOOK_SECRET", whsec(1)+","+whsec(1)), "secret 2 repeats secret 1"},
		"no prefix":          {with("NOTIFY_WEBHOOK_SECRET", strings.TrimPrefix(whsec(5), "whsec_")), "want whsec_"},
	} {
		_, err := Load(lookup(c.env))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
			continue
		}
		// The error is printed at start-up: it must not quote a secret.
		for _, s := range strings.Split(c.env["NOTIFY_WEBHOOK_SECRET"], ",") {
			if b64 := strings.TrimPrefix(s, "whsec_"); b64 != "" && strings.Contains(err.Error(), b64) {
				t.Errorf("%s: the error quotes a secret: %v", name, err)
			}
		}
	}
}

// A Config printed or logged whole (a debugging habit) shows the secrets
// redacted.
func TestConfigNeverShowsAWebhookSecret(t *testing.T) {
	c, err := Load(lookup(map[string]string{"TEMPORAL_CONFIG_FILE": "/nonexistent",
		"NOTIFY_WEBHOOK_URL": "https://hooks.example/x", "NOTIFY_WEBHOOK_SECRET": whsec(9)}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v\n", c, c, c)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "c", c)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "secrets", c.WebhookSecrets)
	if secret := strings.TrimPrefix(whsec(9), "whsec_"); strings.Contains(out.String(), secret) {
		t.Fatalf("secret in:\n%s", out.String())
	}
	if !strings.Contains(out.String(), c.WebhookSecrets[0].String()) {
		t.Errorf("no redacted secret in:\n%s", out.String())
	}
}
