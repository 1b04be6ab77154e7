package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/internal/pgtest"
)

// R1, issue 10: a console session is its signer's principal until it is
// ended, its token is revoked, or its user is deactivated; a wrong or
// malformed cookie is ErrUnauthenticated.
func TestR1_SessionStore(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	if err := demo.Seed(ctx, pool); err != nil {
		t.Fatal(err)
	}
	q := db.New(pool)
	tokens, sessions := auth.NewTokenStore(q), auth.NewSessionStore(q)
	start := func(user, label string) string {
		t.Helper()
		tok, err := tokens.Issue(ctx, user, label)
		if err != nil {
			t.Fatal(err)
		}
		p, err := tokens.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		cookie, sess, err := sessions.Start(ctx, p, auth.TokenID(tok))
		if err != nil || sess.CSRF == "" {
			t.Fatalf("start: %v %+v", err, sess)
		}
		return cookie
	}
	refused := func(what, cookie string) {
		t.Helper()
		if _, err := sessions.Lookup(ctx, cookie); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", what, err)
		}
	}

	cookie := start("manager1", "console")
	s, err := sessions.Lookup(ctx, cookie)
	if err != nil || s.Principal.UserID != "manager1" || !s.Principal.Manages("team-a") {
		t.Fatalf("lookup = %+v, %v", s, err)
	}
	refused("wrong secret", cookie[:len(cookie)-2]+"xx")
	refused("malformed", "no-dot")
	refused("NUL", "a\x00.b")

	if err := sessions.End(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	refused("ended", cookie)

	cookie = start("head1", "console")
	if err := q.RevokeUserTokens(ctx, db.RevokeUserTokensParams{UserID: "head1", Label: "console"}); err != nil {
		t.Fatal(err)
	}
	refused("its token revoked", cookie)

	cookie = start("agent1", "console")
	if _, err := pool.Exec(ctx, `UPDATE users SET active = false WHERE id = 'agent1'`); err != nil {
		t.Fatal(err)
	}
	refused("its user deactivated", cookie)
}
