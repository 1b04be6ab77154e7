package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
)

// frame is the layout's data: the page's own data is Page.
type frame struct {
	Title string
	Lang  string
	CSRF  string
	// Self is the page's own URL: its live part reloads from it.
	Self string
	Zone string
	Me   struct{ Name, RoleLabel string }
	Nav  []navItem
	Page any
}

type navItem struct {
	Href, Label string
	Current     bool
}

// navFor lists the views of the person's roles (R1).
func navFor(p auth.Principal, current string) []navItem {
	var items []navItem
	add := func(href, label string, roles ...auth.Role) {
		if len(roles) == 0 || p.Has(roles...) {
			items = append(items, navItem{Href: href, Label: label, Current: strings.HasPrefix(current, href)})
		}
	}
	add("/console/board", "Board", auth.EscalationOfficer, auth.Manager)
	add("/console/team", "My teams", auth.Manager)
	add("/console/hr", "HR desk", auth.HR)
	add("/console/approvals", "Approvals", auth.Manager, auth.Committee)
	add("/console/reports", "Reports", auth.HR, auth.EscalationOfficer, auth.Manager)
	add("/console/ranking", "Ranking", auth.HR, auth.EscalationOfficer, auth.Manager) // R4.7
	add("/console/admin", "Administration", auth.Admin)
	add("/console/policies", "Policies", auth.Admin, auth.EscalationOfficer) // issue 12, R2
	add("/console/me", "My work")
	return items
}

var roleLabels = map[auth.Role]string{
	auth.Agent: "agent", auth.Manager: "manager", auth.HR: "HR", auth.EscalationOfficer: "escalation officer",
	auth.Committee: "committee", auth.Admin: "admin",
}

func roleLabel(p auth.Principal) string {
	var out []string
	for _, r := range p.Roles {
		out = append(out, cmp.Or(roleLabels[r], string(r)))
	}
	return strings.Join(out, ", ")
}

// when is an instant as people read it: in the calendar's zone (R2) with
// its offset, so nobody wonders which midnight a deadline means.
func (c *Console) when(t time.Time) string { return t.In(c.loc).Format("2006-01-02 15:04 -07:00") }

func (c *Console) whenP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return c.when(*t)
}

// zone names the calendar's zone and its offset now.
func (c *Console) zone() string {
	return c.loc.String() + " (UTC" + time.Now().In(c.loc).Format("-07:00") + ")"
}

func iso(t time.Time) string { return t.Format(time.RFC3339) }

func isoP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return iso(*t)
}

// span is a duration as the countdowns show it ("2d 03:04:05"); the
// script keeps it ticking.
func span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	out := fmt.Sprintf("%02d:%02d:%02d", s/3600, s%3600/60, s%60)
	if days > 0 {
		out = fmt.Sprintf("%dd %s", days, out)
	}
	return out
}

func leftText(due, now time.Time) string {
	if due.After(now) {
		return "due in " + span(due.Sub(now))
	}
	return "overdue by " + span(now.Sub(due))
}

// option is an <option>.
type option struct {
	Value, Label string
	Selected     bool
}

// directory names people and teams beside their ids, and lists who may be
// picked in the forms.
type directory struct {
	users []db.ListDirectoryUsersRow
	byID  map[string]db.ListDirectoryUsersRow
	teams []db.ListDirectoryTeamsRow
	team  map[string]string
}

func (c *Console) directory(ctx context.Context) (directory, error) {
	users, err := c.q.ListDirectoryUsers(ctx)
	if err != nil {
		return directory{}, err
	}
	teams, err := c.q.ListDirectoryTeams(ctx)
	if err != nil {
		return directory{}, err
	}
	d := directory{users: users, byID: map[string]db.ListDirectoryUsersRow{}, teams: teams, team: map[string]string{}}
	for _, u := range users {
		d.byID[u.ID] = u
	}
	for _, t := range teams {
		d.team[t.ID] = t.Name
	}
	return d, nil
}

// name of a user id ("system" for the workflows' own actions).
func (d directory) name(id string) string {
	switch id {
	case "system":
		return "the system"
	case "escalation_officers": // R3: no manager to escalate to
		return "the escalation officers"
	}
	if u, ok := d.byID[id]; ok {
		return u.Name
	}
	return id
}

func (d directory) names(ids []string) string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, d.name(id))
	}
	return strings.Join(out, ", ")
}

func (d directory) teamName(id string) string { return cmp.Or(d.team[id], id) }

// agents are the active agents, of teams (all when nil), as options.
func (d directory) agents(teams []string, selected string) []option {
	var out []option
	for _, u := range d.users {
		if u.Active && slices.Contains(u.Roles, string(auth.Agent)) && (teams == nil || slices.Contains(teams, u.TeamID)) {
			out = append(out, option{Value: u.ID, Label: u.Name, Selected: u.ID == selected})
		}
	}
	return out
}

// teamOptions are the teams the person oversees (all for officers and HR).
func (d directory) teamOptions(p auth.Principal, selected string) []option {
	var out []option
	for _, t := range d.teams {
		if p.Has(auth.EscalationOfficer, auth.HR) || slices.Contains(p.ManagedTeams, t.ID) {
			out = append(out, option{Value: t.ID, Label: t.Name, Selected: t.ID == selected})
		}
	}
	return out
}

// scope is the teams whose people the person may pick: nil for all.
func scope(p auth.Principal) []string {
	if p.Has(auth.EscalationOfficer, auth.HR) {
		return nil
	}
	return p.ManagedTeams
}

// newKey is a form's idempotency key: one command per rendered form. The
// API's keys start with a letter or digit (input.ID); base64url may start
// with - or _, hence the prefix.
func newKey() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "console-" + base64.RawURLEncoding.EncodeToString(b)
}

var funcs = template.FuncMap{
	"newKey": newKey,
	// args passes the CSRF token beside a page part's data.
	"args":  func(csrf string, v any) map[string]any { return map[string]any{"CSRF": csrf, "V": v} },
	"domID": domID,
}

// domID makes an element id of parts ("rewards/R-1/approve", "note").
func domID(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('-')
		}
		for _, r := range p {
			if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
	}
	return b.String()
}

// isHTMX: the request is htmx's (a live part reloading, or a form).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") != "" }
