package config

import (
	"log/slog"
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
