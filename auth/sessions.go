package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/db"
)

// SessionTTL is how long a console session lasts from sign-in: a working
// day and its overtime, so nobody stays signed in overnight by accident.
const SessionTTL = 12 * time.Hour

// Session is a signed-in browser of the console (issue 10).
type Session struct {
	Principal Principal
	// CSRF is the synchronizer token the session's forms and htmx requests
	// must carry.
	CSRF    string
	Expires time.Time
}

// SessionStore keeps console sessions in PostgreSQL. The browser holds an
// opaque cookie "<id>.<secret>" and the store only the secret's SHA-256, as
// for bearer tokens. A session signed in with a token lives no longer than
// that token: revoking it signs the browser out on the next request, on
// every server.
type SessionStore struct {
	q   *db.Queries
	now func() time.Time
}

// NewSessionStore returns a SessionStore over q.
func NewSessionStore(q *db.Queries) *SessionStore {
	return &SessionStore{q: q, now: time.Now}
}

// Start opens a session for p, who signed in with the bearer token tokenID
// ("" when not signed in with a token). It returns the cookie value.
func (s *SessionStore) Start(ctx context.Context, p Principal, tokenID string) (string, Session, error) {
	id, err := randomString(9)
	if err != nil {
		return "", Session{}, err
	}
	secret, err := randomString(24)
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := randomString(24)
	if err != nil {
		return "", Session{}, err
	}
	sess := Session{Principal: p, CSRF: csrf, Expires: s.now().Add(SessionTTL)}
	var token *string
	if tokenID != "" {
		token = &tokenID
	}
	sum := sha256.Sum256([]byte(secret))
	if err := s.q.InsertSession(ctx, db.InsertSessionParams{
		ID: id, SecretSha256: sum[:], UserID: p.UserID, TokenID: token, Csrf: csrf, ExpiresAt: sess.Expires,
	}); err != nil {
		return "", Session{}, fmt.Errorf("store session: %w", err)
	}
	return id + "." + secret, sess, nil
}

// Lookup returns the live session of cookie, or ErrUnauthenticated: unknown,
// expired, its token revoked or expired, or its user deactivated.
func (s *SessionStore) Lookup(ctx context.Context, cookie string) (Session, error) {
	id, secret, ok := splitCredential(cookie)
	if !ok {
		return Session{}, ErrUnauthenticated
	}
	row, err := s.q.SessionByID(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	if !secretMatches(secret, row.SecretSha256) || !s.now().Before(row.ExpiresAt) || !row.TokenValid || !row.Active {
		return Session{}, ErrUnauthenticated
	}
	return Session{
		Principal: principal(row.UserID, row.Name, row.TeamID, row.Roles, row.ManagedTeams),
		CSRF:      row.Csrf, Expires: row.ExpiresAt,
	}, nil
}

// End deletes the session of cookie (sign-out); an unknown one is no error.
func (s *SessionStore) End(ctx context.Context, cookie string) error {
	id, _, ok := splitCredential(cookie)
	if !ok {
		return nil
	}
	return s.q.DeleteSession(ctx, id)
}
