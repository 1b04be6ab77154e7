package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/db"
)

// TokenStore authenticates opaque bearer tokens kept in PostgreSQL.
//
// A token is "<id>.<secret>". The id is looked up by primary key; only the
// SHA-256 of the secret is stored, and it is compared in constant time, so
// neither a database leak nor response timing gives a usable token away.
type TokenStore struct {
	q   *db.Queries
	now func() time.Time
}

// NewTokenStore returns a TokenStore over q.
func NewTokenStore(q *db.Queries) *TokenStore {
	return &TokenStore{q: q, now: time.Now}
}

// Authenticate implements Authenticator.
func (s *TokenStore) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	id, secret, ok := splitCredential(bearer)
	if !ok {
		return Principal{}, ErrUnauthenticated
	}
	row, err := s.q.TokenByID(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up token: %w", err)
	}
	now := s.now()
	if !secretMatches(secret, row.SecretSha256) || row.RevokedAt != nil || (row.ExpiresAt != nil && !now.Before(*row.ExpiresAt)) || !row.Active {
		return Principal{}, ErrUnauthenticated
	}
	return principal(row.UserID, row.Name, row.TeamID, row.Roles, row.ManagedTeams), nil
}

// TokenID is the id part of a bearer token ("<id>.<secret>").
func TokenID(bearer string) string {
	id, _, _ := strings.Cut(bearer, ".")
	return id
}

// splitCredential splits "<id>.<secret>" (a bearer token or a session
// cookie). Ids are base64url (see Issue): anything else is no credential of
// ours, and must not reach PostgreSQL (a NUL byte would be a database error).
func splitCredential(v string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(v, ".")
	return id, secret, ok && base64URL(id) && secret != ""
}

// secretMatches compares the secret's SHA-256 with the stored one in
// constant time, so response timing gives nothing away.
func secretMatches(secret string, stored []byte) bool {
	sum := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(sum[:], stored) == 1
}

func principal(userID, name, teamID string, roles, managed []string) Principal {
	rs := make([]Role, len(roles))
	for i, r := range roles {
		rs[i] = Role(r)
	}
	return Principal{UserID: userID, Name: name, Roles: rs, TeamID: teamID, ManagedTeams: managed}
}

// Issue creates a new token for userID and returns it; it is shown once and
// never stored in the clear.
func (s *TokenStore) Issue(ctx context.Context, userID, label string) (string, error) {
	id, token, sum, err := NewToken()
	if err != nil {
		return "", err
	}
	if err := s.q.InsertToken(ctx, db.InsertTokenParams{
		ID: id, UserID: userID, SecretSha256: sum, Label: label,
	}); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// base64URL reports a short base64url string: the shape of a token id.
func base64URL(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
