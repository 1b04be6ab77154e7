// Package demo is the demo organisation of `make run` and the end-to-end
// tests: one department, two teams, one user per R1 role, a second agent and
// the department head.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
)

// User is one entry of DATA_DIR/demo-tokens.json.
type User struct {
	UserID string      `json:"user_id"`
	Name   string      `json:"name"`
	Roles  []auth.Role `json:"roles"`
	TeamID string      `json:"team_id"`
	Token  string      `json:"token"`
}

// The demo organisation: one department with two teams, one user per R1
// role, a second agent (in the other team, so team scoping shows) and the
// department head above both teams (R1, R5.3).
var (
	demoDepartment = struct{ ID, Name string }{"aftersales", "After-sales Department"}
	demoTeams      = []struct{ ID, Name, Manager string }{
		{"team-a", "售后一组 Team A", "manager1"},
		{"team-b", "售后二组 Team B", ""},
	}
	// Users are the demo people, without tokens.
	Users = []User{
		{UserID: "agent1", Name: "李伟 Li Wei", Roles: []auth.Role{auth.Agent}, TeamID: "team-a"},
		{UserID: "agent2", Name: "王芳 Wang Fang", Roles: []auth.Role{auth.Agent}, TeamID: "team-b"},
		{UserID: "manager1", Name: "张敏 Zhang Min", Roles: []auth.Role{auth.Manager}, TeamID: "team-a"},
		{UserID: "head1", Name: "陈军 Chen Jun", Roles: []auth.Role{auth.Manager}},
		{UserID: "hr1", Name: "刘洋 Liu Yang", Roles: []auth.Role{auth.HR}},
		{UserID: "officer1", Name: "赵磊 Zhao Lei", Roles: []auth.Role{auth.EscalationOfficer}},
		{UserID: "committee1", Name: "孙丽 Sun Li", Roles: []auth.Role{auth.Committee}},
		{UserID: "admin1", Name: "周强 Zhou Qiang", Roles: []auth.Role{auth.Admin}},
	}
	demoHead = "head1"
)

const demoTokenLabel = "demo"

// Seed makes sure the demo organisation exists (idempotent).
func Seed(ctx context.Context, pool *pgxpool.Pool) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.UpsertDepartment(ctx, db.UpsertDepartmentParams{ID: demoDepartment.ID, Name: demoDepartment.Name}); err != nil {
			return err
		}
		for _, t := range demoTeams {
			if err := q.UpsertTeam(ctx, db.UpsertTeamParams{ID: t.ID, Name: t.Name, DepartmentID: demoDepartment.ID}); err != nil {
				return err
			}
		}
		for _, u := range Users {
			var team *string
			if u.TeamID != "" {
				team = &u.TeamID
			}
			if err := q.UpsertUser(ctx, db.UpsertUserParams{ID: u.UserID, Name: u.Name, TeamID: team}); err != nil {
				return err
			}
			for _, r := range u.Roles {
				if err := q.AddUserRole(ctx, db.AddUserRoleParams{UserID: u.UserID, Role: string(r)}); err != nil {
					return err
				}
			}
		}
		for _, t := range demoTeams {
			if t.Manager != "" {
				if err := q.SetTeamManager(ctx, db.SetTeamManagerParams{ID: t.ID, ManagerID: &t.Manager}); err != nil {
					return err
				}
			}
		}
		return q.SetDepartmentHead(ctx, db.SetDepartmentHeadParams{ID: demoDepartment.ID, HeadID: &demoHead})
	})
	if err != nil {
		return fmt.Errorf("seed demo organisation: %w", err)
	}
	return nil
}

// IssueTokens revokes the demo users' earlier demo tokens and issues new ones.
func IssueTokens(ctx context.Context, pool *pgxpool.Pool) ([]User, error) {
	store := auth.NewTokenStore(db.New(pool))
	users := make([]User, len(Users))
	for i, u := range Users {
		if err := db.New(pool).RevokeUserTokens(ctx, db.RevokeUserTokensParams{UserID: u.UserID, Label: demoTokenLabel}); err != nil {
			return nil, err
		}
		var err error
		if u.Token, err = store.Issue(ctx, u.UserID, demoTokenLabel); err != nil {
			return nil, err
		}
		users[i] = u
	}
	return users, nil
}

// SeedTokens seeds the organisation and issues fresh demo tokens: user id
// -> token. For tests and tools that start their own stack.
func SeedTokens(ctx context.Context, pool *pgxpool.Pool) (map[string]string, error) {
	if err := Seed(ctx, pool); err != nil {
		return nil, err
	}
	users, err := IssueTokens(ctx, pool)
	if err != nil {
		return nil, err
	}
	tokens := make(map[string]string, len(users))
	for _, u := range users {
		tokens[u.UserID] = u.Token
	}
	return tokens, nil
}

// SeedWithTokenFile seeds the organisation and returns its users with
// working tokens. Tokens are only stored hashed, so the clear ones live in
// tokensFile; when that file is missing or its tokens no longer work, fresh
// ones are issued (and the old demo tokens revoked) and the file rewritten.
func SeedWithTokenFile(ctx context.Context, pool *pgxpool.Pool, tokensFile string) ([]User, error) {
	if err := Seed(ctx, pool); err != nil {
		return nil, err
	}
	store := auth.NewTokenStore(db.New(pool))
	if users, err := readTokens(tokensFile); err == nil && tokensWork(ctx, store, users) {
		return users, nil
	}
	users, err := IssueTokens(ctx, pool)
	if err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(users, "", "  ")
	// 0600: these are credentials.
	if err := os.WriteFile(tokensFile, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", tokensFile, err)
	}
	return users, nil
}

func readTokens(file string) ([]User, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var users []User
	if err := json.Unmarshal(b, &users); err != nil {
		return nil, err
	}
	if len(users) != len(Users) {
		return nil, errors.New("demo users changed")
	}
	return users, nil
}

func tokensWork(ctx context.Context, store *auth.TokenStore, users []User) bool {
	for _, u := range users {
		p, err := store.Authenticate(ctx, u.Token)
		if err != nil || p.UserID != u.UserID {
			return false
		}
	}
	return true
}
