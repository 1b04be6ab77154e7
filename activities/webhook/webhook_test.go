package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The test vector of the Standard Webhooks reference libraries (a 24-byte
// key, below our minimum, so it goes to signature directly; the expected
// value was also checked with openssl dgst -sha256 -mac HMAC).
func TestSignatureMatchesTheStandardWebhooksVector(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	got := signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	if want := "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature = %s, want %s", got, want)
	}
}

func secretOf(b byte, n int) string {
	return SecretPrefix + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, n))
}

func TestParseSecrets(t *testing.T) {
	a, b := secretOf(1, 32), secretOf(2, 64)
	got, err := ParseSecrets(a + " , " + b)
	if err != nil || len(got) != 2 || got[0].key[0] != 1 || len(got[1].key) != 64 {
		t.Fatalf("ParseSecrets = %v, %v", got, err)
	}
	for name, list := range map[string]string{
		"short":      secretOf(1, 31),
		"long":       secretOf(1, 65),
		"no prefix":  base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)),
		"not base64": SecretPrefix + "!!!!" + strings.Repeat("A", 40),
		"unpadded":   strings.TrimRight(secretOf(1, 32), "="),
		"blank":      a + ",,",
		"trailing":   a + ",",
		"repeated":   a + "," + b + "," + a,
		"empty":      "",
	} {
		_, err := ParseSecrets(list)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// An error may end up in a log: it must not repeat the secret.
		if b64 := strings.TrimPrefix(strings.Split(list, ",")[0], SecretPrefix); len(b64) > 8 && strings.Contains(err.Error(), b64) {
			t.Errorf("%s: error repeats the secret: %v", name, err)
		}
	}
}

func TestSecretIsRedactedEverywhere(t *testing.T) {
	raw := secretOf(7, 32)
	s, err := ParseSecret(raw)
	if err != nil {
		t.Fatal(err)
	}
	b64 := strings.TrimPrefix(raw, SecretPrefix)
	holder := struct {
		Secrets []Secret
		One     Secret
	}{[]Secret{s}, s}
	var out bytes.Buffer
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		fmt.Fprintf(&out, f+"\n", holder)
	}
	js, _ := json.Marshal(holder)
	out.Write(js)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "c", holder, "s", s)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "c", holder, "s", s)
	text := out.String()
	for _, leak := range []string{b64, fmt.Sprint(s.key), fmt.Sprintf("%x", s.key), string(s.key)} {
		if strings.Contains(text, leak) {
			t.Fatalf("the key leaks as %q in:\n%s", leak, text)
		}
	}
	if !strings.Contains(text, "whsec_…"+s.Fingerprint()) {
		t.Errorf("no redacted form in:\n%s", text)
	}
}

func TestMessageIDIsStablePerNoticeAndHasNoDots(t *testing.T) {
	id := MessageID("appeal", "A-2026.09/escalation/1")
	if id != MessageID("appeal", "A-2026.09/escalation/1") {
		t.Error("two ids for one notice")
	}
	if id == MessageID("reward", "A-2026.09/escalation/1") || id == MessageID("appeal", "A-2026.09/escalation/2") {
		t.Error("one id for two notices")
	}
	if !strings.HasPrefix(id, "msg_") || strings.ContainsAny(id, ". /+=") || len(id) != 28 {
		t.Errorf("id = %q", id)
	}
}

func TestSignWithoutSecretsSetsNoSignature(t *testing.T) {
	h := http.Header{}
	Sign(h, "msg_x", time.Unix(1700000000, 0), []byte("{}"), nil)
	if h.Get(HeaderID) != "msg_x" || h.Get(HeaderTimestamp) != "1700000000" || h.Get(HeaderSignature) != "" {
		t.Errorf("headers = %v", h)
	}
}
