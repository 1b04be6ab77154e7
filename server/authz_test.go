package server

import (
	"testing"

	"github.com/acme/aftersales/auth"
)

// R1, R7: one rule decides by role, managed team or ownership.
func TestR1_AccessRules(t *testing.T) {
	agent := auth.Principal{UserID: "agent1", Roles: []auth.Role{auth.Agent}, TeamID: "team-a"}
	manager := auth.Principal{UserID: "manager1", Roles: []auth.Role{auth.Manager}, TeamID: "team-a", ManagedTeams: []string{"team-a"}}
	head := auth.Principal{UserID: "head1", Roles: []auth.Role{auth.Manager}, ManagedTeams: []string{"team-a", "team-b"}}
	hr := auth.Principal{UserID: "hr1", Roles: []auth.Role{auth.HR}}
	rule := Access{Roles: []auth.Role{auth.HR}, TeamRoles: []auth.Role{auth.Manager}, OwnerRoles: []auth.Role{auth.Agent}}
	teamA := Resource{TeamIDs: []string{"team-a"}, OwnerIDs: []string{"agent1"}}
	teamB := Resource{TeamIDs: []string{"team-b"}, OwnerIDs: []string{"agent2"}}
	for _, tc := range []struct {
		name string
		p    auth.Principal
		res  Resource
		want bool
	}{
		{"hr sees all", hr, teamB, true},
		{"manager own team", manager, teamA, true},
		{"manager other team", manager, teamB, false},
		{"department head every team", head, teamB, true},
		{"agent owner", agent, teamA, true},
		{"agent not owner", agent, teamB, false},
		{"no roles", auth.Principal{UserID: "x"}, teamA, false},
	} {
		if got := rule.allows(tc.p, tc.res); got != tc.want {
			t.Errorf("%s: allows = %v, want %v", tc.name, got, tc.want)
		}
	}
	if only(auth.Admin).allows(hr, Resource{}) {
		t.Error("only(admin) allowed hr")
	}
	if !anyone.allows(agent, Resource{}) {
		t.Error("anyone refused an agent")
	}
}
