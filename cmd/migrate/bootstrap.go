package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
)

// bootstrapActor is who the audit names for the bootstrap's changes: no
// admin exists yet to be named (R7: every change is attributed).
const bootstrapActor = "bootstrap"

type bootstrapOptions struct {
	id, name, reason string
	force            bool
}

func parseBootstrap(args []string, stderr io.Writer) (bootstrapOptions, error) {
	var o bootstrapOptions
	fs := flag.NewFlagSet("bootstrap-admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.id, "id", "", "the admin's user id (required)")
	fs.StringVar(&o.name, "name", "", "the admin's name (required when the user does not exist yet)")
	fs.StringVar(&o.reason, "reason", "", "why, for the audit (optional)")
	fs.BoolVar(&o.force, "force", false, "give the admin role to an existing user who holds other roles, or is deactivated (and reactivate them)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bootstrap-admin: unexpected arguments %q", fs.Args())
	}
	if p := input.ID(o.id); p != "" {
		return o, fmt.Errorf("bootstrap-admin: --id %s", p)
	}
	o.name = strings.TrimSpace(o.name)
	if o.name != "" {
		if p := input.Line(o.name, 200); p != "" {
			return o, fmt.Errorf("bootstrap-admin: --name %s", p)
		}
	}
	return o, nil
}

// bootstrapAdmin makes sure o.id is an active admin and prints a new bearer
// token for them, once, on stdout. A missing user is created with the
// admin role alone. An existing user who holds other roles or is
// deactivated is refused unless o.force: the command must not quietly make
// an agent an admin. Everything, the token included, is one transaction
// with its admin_audit rows (actor "bootstrap"). Running it again for an
// admin issues another token (e.g. the first one was lost); revoke the old
// one through the API.
func bootstrapAdmin(ctx context.Context, pool *pgxpool.Pool, o bootstrapOptions, stdout, stderr io.Writer) error {
	id, token, sum, err := auth.NewToken()
	if err != nil {
		return err
	}
	var reason *string
	if o.reason != "" {
		reason = &o.reason
	}
	var created bool
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		audit := func(entity, entityID, field string, old, new *string) error {
			return q.InsertAdminAudit(ctx, db.InsertAdminAuditParams{
				ActorID: bootstrapActor, Entity: entity, EntityID: entityID, Field: field, OldValue: old, NewValue: new, Reason: reason,
			})
		}
		u, err := q.AdminUserForUpdate(ctx, o.id)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if o.name == "" {
				return fmt.Errorf("bootstrap-admin: user %s does not exist: --name is required to create them", o.id)
			}
			created = true
			if err := q.AdminInsertUser(ctx, db.AdminInsertUserParams{ID: o.id, Name: o.name}); err != nil {
				return err
			}
			if err := q.AddUserRole(ctx, db.AddUserRoleParams{UserID: o.id, Role: string(auth.Admin)}); err != nil {
				return err
			}
			for _, c := range [][2]string{{"created", "true"}, {"name", o.name}, {"roles", string(auth.Admin)}, {"active", "true"}} {
				if err := audit("user", o.id, c[0], nil, &c[1]); err != nil {
					return err
				}
			}
		case err != nil:
			return err
		default:
			onlyAdmin := slices.Equal(u.Roles, []string{string(auth.Admin)})
			if (!onlyAdmin || !u.Active) && !o.force {
				return fmt.Errorf("bootstrap-admin: user %s exists with roles [%s] and active=%t: pass --force to make them an active admin",
					o.id, strings.Join(u.Roles, ","), u.Active)
			}
			if !slices.Contains(u.Roles, string(auth.Admin)) {
				if err := q.AddUserRole(ctx, db.AddUserRoleParams{UserID: o.id, Role: string(auth.Admin)}); err != nil {
					return err
				}
				old, new := strings.Join(u.Roles, ","), strings.Join(sortedWith(u.Roles, string(auth.Admin)), ",")
				if err := audit("user", o.id, "roles", &old, &new); err != nil {
					return err
				}
			}
			if !u.Active {
				if err := q.AdminSetUserActive(ctx, db.AdminSetUserActiveParams{Active: true, ID: o.id}); err != nil {
					return err
				}
				f, t := "false", "true"
				if err := audit("user", o.id, "active", &f, &t); err != nil {
					return err
				}
			}
		}
		if err := q.AdminInsertToken(ctx, db.AdminInsertTokenParams{ID: id, UserID: o.id, SecretSha256: sum, Label: "bootstrap"}); err != nil {
			return err
		}
		return audit("token", id, "user_id", nil, &o.id)
	})
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stderr, "created admin %s; their bearer token follows, shown this once (token id %s)\n", o.id, id)
	} else {
		fmt.Fprintf(stderr, "%s is an admin; a new bearer token follows, shown this once (token id %s)\n", o.id, id)
	}
	fmt.Fprintln(stdout, token)
	return nil
}

func sortedWith(rs []string, r string) []string {
	out := append(slices.Clone(rs), r)
	slices.Sort(out)
	return out
}
