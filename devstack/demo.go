package devstack

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

// DemoUser is one entry of DATA_DIR/demo-tokens.json.
type DemoUser struct {
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
		{"team-a", "Service Team A", "manager1"},
		{"team-b", "Service Team B", ""},
	}
	demoUsers = []DemoUser{
		{UserID: "agent1", Name: "Li Wei (agent)", Roles: []auth.Role{auth.Agent}, TeamID: "team-a"},
		{UserID: "agent2", Name: "Wang Fang (agent)", Roles: []auth.Role{auth.Agent}, TeamID: "team-b"},
		{UserID: "manager1", Name: "Zhang Min (team A supervisor)", Roles: []auth.Role{auth.Manager}, TeamID: "team-a"},
		{UserID: "head1", Name: "Chen Jun (department head)", Roles: []auth.Role{auth.Manager}},
		{UserID: "hr1", Name: "Liu Yang (HR)", Roles: []auth.Role{auth.HR}},
		{UserID: "officer1", Name: "Zhao Lei (escalation officer)", Roles: []auth.Role{auth.EscalationOfficer}},
		{UserID: "committee1", Name: "Sun Li (satisfaction committee)", Roles: []auth.Role{auth.Committee}},
		{UserID: "admin1", Name: "Zhou Qiang (admin)", Roles: []auth.Role{auth.Admin}},
	}
	demoHead = "head1"
)

const demoTokenLabel = "demo"

// seedDemo makes sure the demo organisation exists and returns its users
// with working tokens. Tokens are only stored hashed, so the clear ones live
// in tokensFile; when that file is missing or its tokens no longer work,
// fresh ones are issued and the old demo tokens revoked.
func seedDemo(ctx context.Context, pool *pgxpool.Pool, tokensFile string) ([]DemoUser, error) {
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
		for _, u := range demoUsers {
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
		return nil, fmt.Errorf("seed demo organisation: %w", err)
	}

	store := auth.NewTokenStore(db.New(pool))
	if users, err := readTokens(tokensFile); err == nil && tokensWork(ctx, store, users) {
		return users, nil
	}
	users := make([]DemoUser, len(demoUsers))
	for i, u := range demoUsers {
		if err := db.New(pool).RevokeUserTokens(ctx, db.RevokeUserTokensParams{UserID: u.UserID, Label: demoTokenLabel}); err != nil {
			return nil, err
		}
		if u.Token, err = store.Issue(ctx, u.UserID, demoTokenLabel); err != nil {
			return nil, err
		}
		users[i] = u
	}
	b, _ := json.MarshalIndent(users, "", "  ")
	// 0600: these are credentials.
	if err := os.WriteFile(tokensFile, append(b, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", tokensFile, err)
	}
	return users, nil
}

func readTokens(file string) ([]DemoUser, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var users []DemoUser
	if err := json.Unmarshal(b, &users); err != nil {
		return nil, err
	}
	if len(users) != len(demoUsers) {
		return nil, errors.New("demo users changed")
	}
	return users, nil
}

func tokensWork(ctx context.Context, store *auth.TokenStore, users []DemoUser) bool {
	for _, u := range users {
		p, err := store.Authenticate(ctx, u.Token)
		if err != nil || p.UserID != u.UserID {
			return false
		}
	}
	return true
}
