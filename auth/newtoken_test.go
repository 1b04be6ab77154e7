package auth

import (
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/acme/aftersales/input"
)

// NewToken's ids are token ids and valid ids (input.ID), whatever the
// random bytes; the hash is of the secret part.
func TestNewTokenShape(t *testing.T) {
	for range 2000 {
		id, token, sum, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		gotID, secret, ok := splitCredential(token)
		if !ok || gotID != id || !IsTokenID(id) || input.ID(id) != "" || strings.Contains(secret, ".") {
			t.Fatalf("token %q (id %q) has the wrong shape", token, id)
		}
		if want := sha256.Sum256([]byte(secret)); string(want[:]) != string(sum) {
			t.Fatalf("hash of %q is not of its secret", token)
		}
	}
}
