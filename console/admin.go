package console

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/auth"
)

// The admin's page (R1, issue 12): the users with their roles, team and
// state, forms to create one, deactivate or reactivate, set roles, move to
// another team, and issue or revoke tokens. It reads and acts through the
// admin API like every page, so the API's Access rule, validation and
// audit are the page's too.
//
// Deactivate, reactivate and revoke are ordinary actions (/console/do).
// Setting roles, moving and creating are PUTs or carry a list of roles, and
// issuing a token must show its secret once, so those forms post to
// /console/admin/{op}, which makes the one API call and shows its answer.

type adminUserItem struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	TeamID string   `json:"team_id"`
	Roles  []string `json:"roles"`
	Active bool     `json:"active"`
}

type adminTokenItem struct {
	ID        string     `json:"id"`
	Label     string     `json:"label"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	State     string     `json:"state"`
}

type auditItem struct {
	ActorID  string    `json:"actor_id"`
	At       time.Time `json:"at"`
	Entity   string    `json:"entity"`
	EntityID string    `json:"entity_id"`
	Field    string    `json:"field"`
	OldValue *string   `json:"old_value"`
	NewValue *string   `json:"new_value"`
	Reason   *string   `json:"reason"`
}

type auditRow struct {
	When, Actor, Entity, Field, Old, New, Reason string
}

type adminRoleBox struct {
	Value, Label string
	Checked      bool
}

type adminUserRow struct {
	ID, Name, Team, Roles string
	Active                bool
	Actions               []action
	RoleBoxes             []adminRoleBox
	Teams                 []option
}

type adminTokenRow struct {
	ID, Label, Created, Expires, State string
	Actions                            []action
}

type adminPage struct {
	Users     []adminUserRow
	RoleBoxes []adminRoleBox // the create form's
	Teams     []option       // the create form's
	// Selected is the user whose tokens are shown (?user=).
	Selected *adminUserRow
	Tokens   []adminTokenRow
	More     bool
	// Audit is the newest changes (GET /admin/audit).
	Audit []auditRow
}

func roleBoxes(have []string) []adminRoleBox {
	out := make([]adminRoleBox, 0, len(auth.AllRoles))
	for _, r := range auth.AllRoles {
		out = append(out, adminRoleBox{Value: string(r), Label: roleLabels[r], Checked: slices.Contains(have, string(r))})
	}
	return out
}

func (d directory) allTeams(selected string) []option {
	out := make([]option, 0, len(d.teams))
	for _, t := range d.teams {
		out = append(out, option{Value: t.ID, Label: t.Name, Selected: t.ID == selected})
	}
	return out
}

func (c *Console) adminData(r *http.Request, d directory) (any, error) {
	var users list[adminUserItem]
	if err := c.get(r.Context(), apiPath("admin", "users")+"?limit=500", &users); err != nil {
		return nil, err
	}
	reason := field{Name: "reason", Label: "Reason", Kind: "textarea"}
	page := adminPage{RoleBoxes: roleBoxes(nil), Teams: d.allTeams(""), More: users.Next != nil}
	selected := r.URL.Query().Get("user")
	for _, u := range users.Items {
		row := adminUserRow{ID: u.ID, Name: u.Name, Team: d.teamName(u.TeamID), Roles: strings.Join(u.Roles, ", "), Active: u.Active,
			RoleBoxes: roleBoxes(u.Roles), Teams: d.allTeams(u.TeamID)}
		if u.TeamID == "" {
			row.Team = "—"
		}
		if u.Active {
			row.Actions = c.offer(r, row.Actions, action{Name: "deactivate", Label: "Deactivate", Done: "User deactivated.", Fields: []field{reason}},
				"admin", "users", u.ID, "deactivate")
		} else {
			row.Actions = c.offer(r, row.Actions, action{Name: "reactivate", Label: "Reactivate", Done: "User reactivated.", Fields: []field{reason}},
				"admin", "users", u.ID, "reactivate")
		}
		page.Users = append(page.Users, row)
		if u.ID == selected {
			page.Selected = &page.Users[len(page.Users)-1]
		}
	}
	if page.Selected != nil {
		var tokens list[adminTokenItem]
		if err := c.get(r.Context(), apiPath("admin", "users", selected, "tokens")+"?limit=500", &tokens); err != nil {
			return nil, err
		}
		for _, t := range tokens.Items {
			row := adminTokenRow{ID: t.ID, Label: cmp.Or(t.Label, "—"), Created: c.when(t.CreatedAt), Expires: c.whenP(t.ExpiresAt), State: t.State}
			if t.State != "revoked" {
				row.Actions = c.offer(r, row.Actions, action{Name: "revoke", Label: "Revoke", Done: "Token revoked.", Fields: []field{reason}},
					"admin", "tokens", t.ID, "revoke")
			}
			page.Tokens = append(page.Tokens, row)
		}
	}
	var audit list[auditItem]
	if err := c.get(r.Context(), apiPath("admin", "audit")+"?limit=50", &audit); err != nil {
		return nil, err
	}
	opt := func(v *string) string {
		if v == nil {
			return "—"
		}
		return *v
	}
	for _, a := range audit.Items {
		page.Audit = append(page.Audit, auditRow{When: c.when(a.At), Actor: d.name(a.ActorID), Entity: a.Entity + " " + a.EntityID,
			Field: a.Field, Old: opt(a.OldValue), New: opt(a.NewValue), Reason: opt(a.Reason)})
	}
	return page, nil
}

// adminDo is POST /console/admin/{op}: create, roles, team, token.
func (c *Console) adminDo(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.answer(w, r, &problem{Status: http.StatusBadRequest, Message: "the form could not be read"})
		return
	}
	f := r.PostForm
	id := f.Get("user_id")
	var (
		method = http.MethodPost
		target string
		body   = map[string]any{}
	)
	if v := f.Get("reason"); v != "" {
		body["reason"] = v
	}
	roles := f["roles"]
	if roles == nil {
		roles = []string{} // the API names the empty list
	}
	switch chi.URLParam(r, "op") {
	case "create":
		target = apiPath("admin", "users")
		body["id"], body["name"], body["roles"] = f.Get("id"), f.Get("name"), roles
		if v := f.Get("team_id"); v != "" {
			body["team_id"] = v
		}
	case "roles":
		method, target, body["roles"] = http.MethodPut, apiPath("admin", "users", id, "roles"), roles
	case "team":
		method, target, body["team_id"] = http.MethodPut, apiPath("admin", "users", id, "team"), f.Get("team_id")
	case "token":
		target = apiPath("admin", "users", id, "tokens")
		if v := f.Get("label"); v != "" {
			body["label"] = v
		}
		if v := f.Get("expires_at"); v != "" {
			body["expires_at"] = c.jsonValue("expires_at", v)
		}
	default:
		c.answer(w, r, &problem{Status: http.StatusNotFound, Message: "there is no such form"})
		return
	}
	j, err := json.Marshal(body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	status, h, resp := c.api.Call(r.Context(), me(r), method, target, nil, j)
	if status >= 300 {
		c.answer(w, r, problemOf(status, h, resp))
		return
	}
	if chi.URLParam(r, "op") == "token" {
		// The secret, this once: a page of its own, never in a redirect.
		var t struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(resp, &t)
		c.render(w, r, http.StatusCreated, "", "refused", statusLine{Kind: "ok", Title: "Token issued",
			Text: "The bearer token of " + id + ", shown this once (copy it now): " + t.Token,
			Back: "/console/admin?user=" + url.QueryEscape(id)})
		return
	}
	// Back to the page the form was on; without a Referer, this page (an
	// admin's home view may not be one they can read).
	back := backTo(r)
	if back == "/console" {
		back = "/console/admin"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
