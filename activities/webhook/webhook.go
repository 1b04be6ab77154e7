// Package webhook signs the notices the activities POST to
// NOTIFY_WEBHOOK_URL, following the Standard Webhooks specification 1.0
// (https://www.standardwebhooks.com, symmetric scheme), so a receiver can
// verify them with that project's libraries or the ten-line recipe in
// README "Webhook signatures":
//
//	webhook-id:        msg_<base64url>, one per notice, the same on every retry
//	webhook-timestamp: unix seconds of this attempt
//	webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//	                   one per secret, space-separated (rotation)
//
// A secret is written whsec_<standard base64 of the key>, as the
// specification serialises them. It lives in this small package, not in
// activities, so config can parse and validate secrets at start-up without
// importing the activities' dependencies.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of the specification. Go sends them canonicalised
// (Webhook-Id); HTTP header names are case-insensitive.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a symmetric signing secret (the specification's
// serialisation), so a secret pasted in the wrong variable is recognisable.
const SecretPrefix = "whsec_"

// Key sizes. The specification allows 24 to 64 bytes; we ask for 32 at
// least, the size of the HMAC-SHA256 output, so the key is never the weak
// part of the signature.
const (
	MinKeyBytes = 32
	MaxKeyBytes = 64
)

// Secret is one HMAC key. Its only printable forms are redacted (String,
// Format, LogValue, MarshalText), so a Config printed with %+v, logged with
// slog or encoded as JSON never shows the key.
type Secret struct{ key []byte }

// ParseSecret reads whsec_<standard base64>. Its errors never repeat the
// input: a malformed secret is still a secret.
func ParseSecret(s string) (Secret, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf("want %s followed by base64", SecretPrefix)
	}
	// StdEncoding, padded, strictly: what every Standard Webhooks library
	// decodes, so a secret accepted here is accepted by the receiver's.
	key, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return Secret{}, fmt.Errorf("the part after %s is not standard base64 (with = padding)", SecretPrefix)
	}
	if len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return Secret{}, fmt.Errorf("want a key of %d to %d random bytes, got %d (generate one with: echo %s$(head -c 32 /dev/urandom | base64))",
			MinKeyBytes, MaxKeyBytes, len(key), SecretPrefix)
	}
	return Secret{key: key}, nil
}

// ParseSecrets reads a comma-separated list of secrets (blanks around the
// commas are ignored). Every one signs every notice, so a receiver can
// rotate: see README "Webhook signatures". An empty entry or a repeated
// secret is refused: both are slips in the variable, not intentions.
func ParseSecrets(list string) ([]Secret, error) {
	var out []Secret
	var errs []error
	seen := map[string]int{}
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			errs = append(errs, fmt.Errorf("secret %d is empty", i+1))
			continue
		}
		sec, err := ParseSecret(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("secret %d: %w", i+1, err))
			continue
		}
		if j, dup := seen[string(sec.key)]; dup {
			errs = append(errs, fmt.Errorf("secret %d repeats secret %d", i+1, j))
			continue
		}
		seen[string(sec.key)] = i + 1
		out = append(out, sec)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// Fingerprint is the first 8 hex digits of SHA-256 of the key: enough for an
// operator to tell which secrets a worker signs with during a rotation, and
// nothing an attacker can use (a 32-bit digest of a 256-bit random key).
// The receiver's side: printf %s "${SECRET#whsec_}" | base64 -d | sha256sum | cut -c1-8
func (s Secret) Fingerprint() string {
	sum := sha256.Sum256(s.key)
	return hex.EncodeToString(sum[:4])
}

// String is the redacted form: whsec_…<fingerprint>.
func (s Secret) String() string { return SecretPrefix + "…" + s.Fingerprint() }

// Format prints the redacted form for every verb, %#v and %d included
// (fmt would otherwise print the struct's bytes for verbs String does not
// cover).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue keeps slog on the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoding/json (and slog's JSON handler) on the redacted
// form. There is deliberately no UnmarshalText: secrets come from the
// environment through ParseSecrets only.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MessageID is the webhook-id of a notice: msg_ and 24 base64url characters
// of SHA-256(source NUL key). key is the notice's idempotency key (the same
// on every retry), so the id is too; source (complaint, appeal, reward)
// keeps two kinds of notice whose keys happen to be equal apart. Hashing
// also keeps user-supplied characters (appeal ids may hold dots) out of the
// signed "id.timestamp.body" string, as the specification asks.
func MessageID(source, key string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + key))
	return "msg_" + base64.RawURLEncoding.EncodeToString(sum[:18])
}

// Sign sets the three headers on h for a POST of body at the attempt time
// at. With no secrets it sets webhook-id and webhook-timestamp only (the
// unsigned mode config allows only with NOTIFY_WEBHOOK_UNSIGNED=true).
func Sign(h http.Header, id string, at time.Time, body []byte, secrets []Secret) {
	ts := strconv.FormatInt(at.Unix(), 10)
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, ts)
	if len(secrets) == 0 {
		h.Del(HeaderSignature)
		return
	}
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		sigs[i] = "v1," + signature(s.key, id, ts, body)
	}
	h.Set(HeaderSignature, strings.Join(sigs, " "))
}

// signature is base64(HMAC-SHA256(key, id.ts.body)).
func signature(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
