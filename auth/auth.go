// Package auth says who is calling (authentication) and what they are (R1
// roles, team, managed teams). Handlers only ever see a Principal, so the
// token table can be replaced by an OIDC/JWT identity provider by writing
// another Authenticator, without touching them.
package auth

import (
	"context"
	"errors"
	"slices"
)

// Role is one of the roles of R1.
type Role string

const (
	Agent             Role = "agent"
	Manager           Role = "manager"
	HR                Role = "hr"
	EscalationOfficer Role = "escalation_officer"
	Committee         Role = "committee"
	Admin             Role = "admin"
)

// AllRoles lists every role of R1.
var AllRoles = []Role{Agent, Manager, HR, EscalationOfficer, Committee, Admin}

// Principal is an authenticated person. Every action is attributed to UserID (R1, R7).
type Principal struct {
	UserID string `json:"user_id"`
	Name   string `json:"name"`
	Roles  []Role `json:"roles"`
	// TeamID is the team the person belongs to ("" for none).
	TeamID string `json:"team_id,omitempty"`
	// ManagedTeams are the teams the person manages: their own team as its
	// supervisor, or every team of the department they head (R1).
	ManagedTeams []string `json:"managed_teams,omitempty"`
}

// Has reports whether p holds any of roles.
func (p Principal) Has(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// Manages reports whether p manages team teamID.
func (p Principal) Manages(teamID string) bool {
	return teamID != "" && slices.Contains(p.ManagedTeams, teamID)
}

// ErrUnauthenticated means the credentials are missing, unknown, expired or
// revoked. Callers answer 401 without saying which, so tokens cannot be probed.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator turns a bearer credential into a Principal.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (Principal, error)
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the Principal of ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
