package auth

import "crypto/sha256"

// NewToken makes a fresh bearer token "<id>.<secret>" and the SHA-256 of its
// secret, for a caller that stores it itself inside its own transaction
// (the admin API and the bootstrap command write the token and its audit
// row together). Same shape and randomness as Issue.
func NewToken() (id, token string, secretSHA256 []byte, err error) {
	if id, err = randomString(9); err != nil {
		return "", "", nil, err
	}
	secret, err := randomString(24)
	if err != nil {
		return "", "", nil, err
	}
	sum := sha256.Sum256([]byte(secret))
	return id, id + "." + secret, sum[:], nil
}

// IsTokenID reports whether s has the shape of a token id (base64url), so
// a path parameter that cannot be one is refused before reaching SQL.
func IsTokenID(s string) bool { return base64URL(s) }
