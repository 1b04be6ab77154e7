package config

import (
	"log/slog"
	"strings"
	"testing"
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
		c.Temporal.Namespace != "default" || c.LogLevel != slog.LevelInfo || c.LogJSON {
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
		"TEMPORAL_CONFIG_FILE": "/nonexistent",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":9000" || c.Temporal.HostPort != "temporal:7233" || c.Temporal.Namespace != "prod" ||
		c.Location.String() != "UTC" || c.LogLevel != slog.LevelDebug || !c.LogJSON || c.RequireDatabase() != nil {
		t.Fatalf("config = %+v", c)
	}
}

func TestBadValuesAreReportedTogether(t *testing.T) {
	_, err := Load(lookup(map[string]string{"TIME_ZONE": "Mars/Base", "LOG_LEVEL": "loud", "LOG_FORMAT": "xml", "TEMPORAL_CONFIG_FILE": "/nonexistent"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, v := range []string{"TIME_ZONE", "LOG_LEVEL", "LOG_FORMAT"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}
