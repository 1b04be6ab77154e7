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
	id, secret, ok := strings.Cut(bearer, ".")
	// Ids are base64url (see Issue): anything else is no token of ours, and
	// must not reach PostgreSQL (a NUL byte would be a database error).
	if !ok || !base64URL(id) || secret == "" {
		return Principal{}, ErrUnauthenticated
	}
	row, err := s.q.TokenByID(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up token: %w", err)
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], row.SecretSha256) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	now := s.now()
	if row.RevokedAt != nil || (row.ExpiresAt != nil && !now.Before(*row.ExpiresAt)) || !row.Active {
		return Principal{}, ErrUnauthenticated
	}
	roles := make([]Role, len(row.Roles))
	for i, r := range row.Roles {
		roles[i] = Role(r)
	}
	return Principal{
		UserID:       row.UserID,
		Name:         row.Name,
		Roles:        roles,
		TeamID:       row.TeamID,
		ManagedTeams: row.ManagedTeams,
	}, nil
}

// Issue creates a new token for userID and returns it; it is shown once and
// never stored in the clear.
func (s *TokenStore) Issue(ctx context.Context, userID, label string) (string, error) {
	id, err := randomString(9)
	if err != nil {
		return "", err
	}
	secret, err := randomString(24)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(secret))
	if err := s.q.InsertToken(ctx, db.InsertTokenParams{
		ID: id, UserID: userID, SecretSha256: sum[:], Label: label,
	}); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return id + "." + secret, nil
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
