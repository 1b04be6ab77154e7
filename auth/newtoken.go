package auth

import "crypto/sha256"

// NewToken makes a fresh bearer token "<id>.<secret>" and the SHA-256 of its
// secret, for a caller that stores it itself inside its own transaction
// (the admin API and the bootstrap command write the token and its audit
// row together); Issue makes its tokens here too.
func NewToken() (id, token string, secretSHA256 []byte, err error) {
	// The id starts with a letter or digit, so it passes input.ID wherever
	// it is a query parameter (GET /admin/audit?entity_id=...); base64url
	// may start with - or _ (2 in 64).
	for id == "" || !isAlnum(id[0]) {
		if id, err = randomString(9); err != nil {
			return "", "", nil, err
		}
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

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
