// Package pgtest gives tests a real PostgreSQL database: a fresh database per
// test, migrated, on DATABASE_URL's server when set, else on a throwaway
// cluster started once per test binary (package localpg).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/localpg"
	"github.com/acme/aftersales/migrations"
)

var (
	// template is this test binary's migrated template database; the name is
	// unique so test binaries sharing one DATABASE_URL never collide.
	template = "tmpl_" + randomHex()
	once     sync.Once
	cluster  *localpg.Cluster
	// adminURL reaches the server as a user who may create databases.
	adminURL string
	setupErr error
)

// Main runs the tests of a package and then stops the cluster it started.
// Use it as: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if adminURL != "" && cluster == nil {
		if conn, err := pgx.Connect(context.Background(), adminURL); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+template+" WITH (FORCE)")
			_ = conn.Close(context.Background())
		}
	}
	if cluster != nil {
		_ = cluster.Stop()
	}
	os.Exit(code)
}

func setup() {
	ctx := context.Background()
	if u := os.Getenv("DATABASE_URL"); u != "" {
		adminURL = u
	} else {
		cluster, setupErr = localpg.Start(ctx, localpg.Options{Fast: true})
		if setupErr != nil {
			return
		}
		adminURL = cluster.URL("postgres")
	}
	// Migrate a template once; every test's database is a cheap copy of it.
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		setupErr = err
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+template); err != nil {
		setupErr = err
		return
	}
	pool, err := db.Open(ctx, withDatabase(adminURL, template))
	if err != nil {
		setupErr = err
		return
	}
	defer pool.Close()
	_, setupErr = migrations.Up(ctx, pool)
}

// URL creates a fresh migrated database for t, dropped when t ends, and
// returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(setup)
	if setupErr != nil {
		t.Fatalf("pgtest: no PostgreSQL: %v", setupErr)
	}
	ctx := context.Background()
	name := "t_" + randomHex()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(adminURL, name)
}

// New returns a pool on a fresh migrated database for t.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// withDatabase returns u with its database name replaced.
func withDatabase(u, name string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		panic(fmt.Sprintf("pgtest: DATABASE_URL is not a URL: %v", err))
	}
	parsed.Path = "/" + name
	return parsed.String()
}

func randomHex() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
