package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bootstrap runs `migrate bootstrap-admin args...` against DATABASE_URL,
// as an operator would, and returns stdout.
func bootstrap(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"bootstrap-admin"}, args...), &out, &errOut)
	t.Logf("stderr: %s", errOut.String())
	return out.String(), err
}

// auditRows returns the admin_audit rows about field of entity id.
func auditRows(t *testing.T, pool *pgxpool.Pool, entity, id, field string) []db.AdminAudit {
	t.Helper()
	var out []db.AdminAudit
	rows, err := db.New(pool).ListAdminAudit(context.Background(), db.ListAdminAuditParams{Entity: &entity, EntityID: &id, RowLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Field == field {
			out = append(out, r)
		}
	}
	return out
}

func TestBootstrapAdmin(t *testing.T) {
	url := pgtest.URL(t)
	t.Setenv("DATABASE_URL", url)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := context.Background()
	q := db.New(pool)
	tokens := auth.NewTokenStore(q)

	// A fresh database: the admin is created and the printed token works.
	out, err := bootstrap(t, "--id", "root", "--name", "Root Admin")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	token := strings.TrimSpace(out)
	if strings.Count(token, ".") != 1 || strings.Contains(token, "\n") {
		t.Fatalf("stdout should be the token alone, got %q", out)
	}
	p, err := tokens.Authenticate(ctx, token)
	if err != nil || p.UserID != "root" || !p.Has(auth.Admin) || len(p.Roles) != 1 {
		t.Fatalf("token authenticates as %+v, %v; want root with admin only", p, err)
	}
	created := auditRows(t, pool, "user", "root", "roles")
	if len(created) != 1 || created[0].ActorID != "bootstrap" || created[0].OldValue != nil || *created[0].NewValue != "admin" {
		t.Fatalf("audit of the creation: %+v", created)
	}
	if n := len(auditRows(t, pool, "token", auth.TokenID(token), "user_id")); n != 1 {
		t.Fatalf("token issue audited %d times, want 1", n)
	}

	// Again for the same admin: a second token, the first still valid.
	out2, err := bootstrap(t, "--id", "root")
	if err != nil {
		t.Fatalf("second bootstrap: %v", err)
	}
	if strings.TrimSpace(out2) == token {
		t.Fatal("the second run printed the same token")
	}
	if _, err := tokens.Authenticate(ctx, strings.TrimSpace(out2)); err != nil {
		t.Fatalf("second token: %v", err)
	}

	// A user with other roles is refused without --force, and nothing changes.
	if err := q.UpsertUser(ctx, db.UpsertUserParams{ID: "agent7", Name: "Agent Seven"}); err != nil {
		t.Fatal(err)
	}
	if err := q.AddUserRole(ctx, db.AddUserRoleParams{UserID: "agent7", Role: "agent"}); err != nil {
		t.Fatal(err)
	}
	out, err = bootstrap(t, "--id", "agent7", "--name", "Agent Seven")
	if err == nil || !strings.Contains(err.Error(), "--force") || out != "" {
		t.Fatalf("an agent should be refused without --force: out %q, err %v", out, err)
	}
	if u, _ := q.AdminGetUser(ctx, "agent7"); len(u.Roles) != 1 || u.Roles[0] != "agent" {
		t.Fatalf("a refused bootstrap changed the roles: %v", u.Roles)
	}
	if n := len(auditRows(t, pool, "user", "agent7", "roles")); n != 0 {
		t.Fatalf("a refused bootstrap left %d audit rows", n)
	}

	// With --force: the admin role is added (the agent role kept), audited with old and new.
	out, err = bootstrap(t, "--id", "agent7", "--force", "--reason", "the only admin left")
	if err != nil {
		t.Fatalf("forced bootstrap: %v", err)
	}
	p, err = tokens.Authenticate(ctx, strings.TrimSpace(out))
	if err != nil || !p.Has(auth.Admin) || !p.Has(auth.Agent) {
		t.Fatalf("forced: %+v, %v", p, err)
	}
	rows := auditRows(t, pool, "user", "agent7", "roles")
	if len(rows) != 1 || *rows[0].OldValue != "agent" || *rows[0].NewValue != "admin,agent" || rows[0].Reason == nil || *rows[0].Reason != "the only admin left" {
		t.Fatalf("forced audit: %+v", rows)
	}

	// Bad input is refused before any database work.
	if _, err := bootstrap(t, "--id", "", "--name", "x"); err == nil {
		t.Fatal("an empty --id was accepted")
	}
	if _, err := bootstrap(t, "--id", "newbie"); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("a new user without --name: %v", err)
	}
}
