package worker

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"

	"github.com/acme/aftersales/activities/webhook"
)

// The start-up line names the secrets by fingerprint only, and warns when
// notices go unsigned.
func TestLogWebhookShowsFingerprintsNeverSecrets(t *testing.T) {
	text := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 32))
	s, err := webhook.ParseSecret(text)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	logWebhook(Deps{WebhookURL: "https://hooks.example/x", WebhookSecrets: []webhook.Secret{s}, Logger: log})
	if line := out.String(); strings.Contains(line, strings.TrimPrefix(text, "whsec_")) || !strings.Contains(line, s.Fingerprint()) ||
		!strings.Contains(line, "level=INFO") {
		t.Errorf("signed: %s", line)
	}
	out.Reset()
	logWebhook(Deps{WebhookURL: "https://hooks.example/x", Logger: log})
	if line := out.String(); !strings.Contains(line, "level=WARN") || !strings.Contains(line, "UNSIGNED") {
		t.Errorf("unsigned: %s", line)
	}
}
