package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// R1: a token resolves to its user's roles, team and managed teams; anything
// else is ErrUnauthenticated.
func TestR1_TokenStore(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	if err := demo.Seed(ctx, pool); err != nil {
		t.Fatal(err)
	}
	q := db.New(pool)
	store := auth.NewTokenStore(q)
	head, err := store.Issue(ctx, "head1", "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := store.Authenticate(ctx, head)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != "head1" || !p.Has(auth.Manager) || p.Has(auth.HR) || !p.Manages("team-a") || !p.Manages("team-b") {
		t.Fatalf("department head principal = %+v", p)
	}
	mgr, _ := store.Issue(ctx, "manager1", "test")
	if p, _ := store.Authenticate(ctx, mgr); !p.Manages("team-a") || p.Manages("team-b") || p.TeamID != "team-a" {
		t.Fatalf("team supervisor principal = %+v", p)
	}

	id, _, _ := strings.Cut(head, ".")
	for name, tok := range map[string]string{
		"wrong secret": id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"unknown id":   "nope." + strings.SplitN(head, ".", 2)[1],
		"no dot":       "abc",
		"empty":        "",
	} {
		if _, err := store.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", name, err)
		}
	}
	// A revoked token stops working.
	if err := q.RevokeUserTokens(ctx, db.RevokeUserTokensParams{UserID: "head1", Label: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Authenticate(ctx, head); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked token: err = %v", err)
	}
	// Only the hash is stored.
	var stored int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM api_tokens WHERE position($1 in encode(secret_sha256, 'escape')) > 0", strings.SplitN(mgr, ".", 2)[1]).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("secret stored in clear (%d, %v)", stored, err)
	}
}
