package activities

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/aftersales/activities/webhook"
	"github.com/acme/aftersales/workflows"
)

// verify is a receiver's check, written from README "Webhook signatures"
// and the Standard Webhooks specification, not from package webhook: it
// returns the indexes of the webhook-signature entries that secret (as
// configured, whsec_...) signed, or an error for a missing header or a
// timestamp more than 5 minutes from now.
func verify(secret, id, ts string, body []byte, sigHeader string, now time.Time) ([]int, error) {
	if id == "" || ts == "" || sigHeader == "" {
		return nil, errors.New("missing header")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, err
	}
	if d := now.Sub(time.Unix(unix, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return nil, errors.New("timestamp outside the tolerance")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	var ok []int
	for i, entry := range strings.Fields(sigHeader) {
		version, sig, _ := strings.Cut(entry, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			ok = append(ok, i)
		}
	}
	return ok, nil
}

// delivery is one request the receiver saw.
type delivery struct {
	id, ts, sig, idemKey string
	body                 []byte
}

// receiver is a real HTTP receiver that records every delivery and answers
// with codes in turn (200 once they run out).
func receiver(t *testing.T, codes ...int) (*httptest.Server, func() []delivery) {
	t.Helper()
	var mu sync.Mutex
	var got []delivery
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, delivery{id: r.Header.Get("webhook-id"), ts: r.Header.Get("webhook-timestamp"),
			sig: r.Header.Get("webhook-signature"), idemKey: r.Header.Get("Idempotency-Key"), body: body})
		code := http.StatusOK
		if len(codes) > 0 {
			code, codes = codes[0], codes[1:]
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []delivery { mu.Lock(); defer mu.Unlock(); return append([]delivery(nil), got...) }
}

// newSecret is a configured secret: its whsec_ text (what the receiver
// holds) and the parsed value (what the worker holds).
func newSecret(t *testing.T) (string, webhook.Secret) {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	text := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	s, err := webhook.ParseSecret(text)
	if err != nil {
		t.Fatal(err)
	}
	return text, s
}

func TestWebhookSignatureVerifiesAndTamperingFails(t *testing.T) {
	text, secret := newSecret(t)
	otherText, _ := newSecret(t)
	srv, got := receiver(t)
	a := &Activities{WebhookURL: srv.URL, WebhookSecrets: []webhook.Secret{secret}}
	if err := a.Notify(context.Background(), notice()); err != nil {
		t.Fatal(err)
	}
	d := got()[0]
	now := time.Now()
	if ok, err := verify(text, d.id, d.ts, d.body, d.sig, now); err != nil || len(ok) != 1 {
		t.Fatalf("verify = %v, %v; headers id=%q ts=%q sig=%q", ok, err, d.id, d.ts, d.sig)
	}
	if !strings.HasPrefix(d.id, "msg_") || d.idemKey != notice().Key {
		t.Errorf("webhook-id %q, Idempotency-Key %q", d.id, d.idemKey)
	}
	// Whatever is changed, no signature matches any more.
	tampered := bytes.Replace(d.body, []byte(`"level":1`), []byte(`"level":2`), 1)
	if bytes.Equal(tampered, d.body) {
		t.Fatalf("body has no level 1: %s", d.body)
	}
	ts, _ := strconv.ParseInt(d.ts, 10, 64)
	for name, c := range map[string]struct {
		secret, id, ts string
		body           []byte
	}{
		"body":         {text, d.id, d.ts, tampered},
		"body + space": {text, d.id, d.ts, append(append([]byte(nil), d.body...), ' ')},
		"timestamp":    {text, d.id, strconv.FormatInt(ts+1, 10), d.body},
		"id":           {text, webhook.MessageID("complaint", "C-2/contact/1"), d.ts, d.body},
		"secret":       {otherText, d.id, d.ts, d.body},
	} {
		if ok, err := verify(c.secret, c.id, c.ts, c.body, d.sig, now); err != nil || len(ok) != 0 {
			t.Errorf("tampered %s: verify = %v, %v, want no match", name, ok, err)
		}
	}
	// A replay after the receiver's tolerance fails however well signed.
	if _, err := verify(text, d.id, d.ts, d.body, d.sig, now.Add(6*time.Minute)); err == nil {
		t.Error("a 6-minute-old delivery verified")
	}
}

func TestWebhookRotationSignsWithEverySecret(t *testing.T) {
	newText, newer := newSecret(t)
	oldText, older := newSecret(t)
	srv, got := receiver(t)
	a := &Activities{WebhookURL: srv.URL, WebhookSecrets: []webhook.Secret{newer, older}}
	if err := a.Notify(context.Background(), notice()); err != nil {
		t.Fatal(err)
	}
	d := got()[0]
	if n := len(strings.Fields(d.sig)); n != 2 {
		t.Fatalf("webhook-signature = %q, want two entries", d.sig)
	}
	// A receiver holding either secret verifies, each on its own entry, in
	// the order of NOTIFY_WEBHOOK_SECRET.
	for i, text := range []string{newText, oldText} {
		if ok, err := verify(text, d.id, d.ts, d.body, d.sig, time.Now()); err != nil || len(ok) != 1 || ok[0] != i {
			t.Errorf("secret %d: verify = %v, %v, want entry %d", i, ok, err, i)
		}
	}
}

// A retried delivery carries the same webhook-id (the receiver's
// idempotency key) and a fresh, valid signature; every kind of notice is
// signed (they share deliver), with ids of their own.
func TestWebhookIDIsStableAcrossRetries(t *testing.T) {
	text, secret := newSecret(t)
	srv, got := receiver(t, http.StatusServiceUnavailable, http.StatusInternalServerError)
	a := &Activities{WebhookURL: srv.URL, WebhookSecrets: []webhook.Secret{secret}}
	ctx := context.Background()
	for attempt := range 3 { // two failures, then delivered
		err := a.Notify(ctx, notice())
		if (err == nil) != (attempt == 2) {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
	}
	other := notice()
	other.Key, other.Level = "C-1/contact/escalation/2/0", 2
	if err := a.Notify(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := a.NotifyAppeal(ctx, workflows.AppealNotice{Key: notice().Key, Kind: "reminder", AppealID: "A-1", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := a.NotifyReward(ctx, workflows.RewardNotice{Key: "R-1/1/manager/reminder", Kind: "reminder", NominationNo: "R-1", At: t0}); err != nil {
		t.Fatal(err)
	}
	ds := got()
	if len(ds) != 6 {
		t.Fatalf("%d deliveries, want 6", len(ds))
	}
	for i, d := range ds {
		if ok, err := verify(text, d.id, d.ts, d.body, d.sig, time.Now()); err != nil || len(ok) != 1 {
			t.Errorf("delivery %d: verify = %v, %v", i, ok, err)
		}
	}
	if ds[0].id != ds[1].id || ds[1].id != ds[2].id || !bytes.Equal(ds[0].body, ds[2].body) {
		t.Errorf("retries: ids %q %q %q", ds[0].id, ds[1].id, ds[2].id)
	}
	// Another notice, and an appeal notice with the same key, are other messages.
	if ds[3].id == ds[0].id || ds[4].id == ds[0].id || ds[5].id == ds[3].id {
		t.Errorf("ids %q %q %q %q: want distinct messages distinct", ds[0].id, ds[3].id, ds[4].id, ds[5].id)
	}
	// The id is the notice's, not this process's: a worker restarted (or
	// another worker) retrying the notice sends the same one.
	if want := webhook.MessageID("complaint", notice().Key); ds[0].id != want {
		t.Errorf("id = %q, want %q", ds[0].id, want)
	}
}

// Neither the logs nor the errors (which Temporal keeps in the workflow's
// history) carry a secret, on success, on a refusal or when the receiver
// is unreachable.
func TestWebhookSecretInNoLogOrError(t *testing.T) {
	text, secret := newSecret(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, _ := receiver(t, http.StatusOK, http.StatusBadRequest, http.StatusInternalServerError)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	var errs []string
	for _, url := range []string{srv.URL, srv.URL, srv.URL, dead.URL} {
		a := &Activities{WebhookURL: url, WebhookSecrets: []webhook.Secret{secret}, Logger: log}
		if err := a.Notify(context.Background(), notice()); err != nil {
			errs = append(errs, err.Error())
		}
		a.Logger.Info("activities", "a", a) // as a careless diagnostic would
	}
	if len(errs) != 3 {
		t.Fatalf("errors %q, want 3", errs)
	}
	out := logs.String() + strings.Join(errs, "\n")
	b64 := strings.TrimPrefix(text, "whsec_")
	if strings.Contains(out, b64) || !strings.Contains(out, secret.String()) {
		t.Fatalf("want the redacted form %s and never the secret in:\n%s", secret, out)
	}
}
