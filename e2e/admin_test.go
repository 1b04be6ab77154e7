package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/server"
)

// signedIn reports whether the console still serves cc a page of its own
// rather than the sign-in form (where a page sends a browser whose session
// has ended).
func signedIn(cc *consoleClient) bool {
	cc.t.Helper()
	status, body := cc.get("/console/me")
	return status == http.StatusOK && !strings.Contains(body, `id="token"`)
}

// auditOf returns the admin audit rows of entity id, newest first.
func (s *stack) auditOf(entity, id string) []map[string]any {
	s.t.Helper()
	r := s.call("admin1", "GET", "/api/v1/admin/audit?entity="+entity+"&entity_id="+url.QueryEscape(id)+"&limit=500", nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("GET audit: %d %s", r.status, r.raw)
	}
	var out []map[string]any
	for _, it := range r.body["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// hasAudit reports whether rows hold a change of field from old to new
// (nil: none) by actor.
func hasAudit(rows []map[string]any, actor, field string, old, new any) bool {
	for _, r := range rows {
		if r["actor_id"] == actor && r["field"] == field && r["old_value"] == old && r["new_value"] == new {
			return true
		}
	}
	return false
}

// R1 (issue 12): an admin creates a user and a token through the API, the
// user works with it and signs in to the console; deactivation refuses the
// very next API call and ends the console session; reactivation restores
// the token; revoking a token and an expired token are refused too. Every
// change is in the audit with its old and new value.
func TestR1_AdminCreatesUserAndTokenAndDeactivates(t *testing.T) {
	s := startStack(t)
	calendar := "/api/v1/calendar?from=2026-01-05&to=2026-01-09"

	create := map[string]any{"id": "agent9", "name": "New Agent", "team_id": "team-a", "roles": []string{"agent"}, "reason": "hired"}
	r := s.call("admin1", "POST", "/api/v1/admin/users", create)
	if r.status != http.StatusCreated || r.body["id"] != "agent9" || r.body["active"] != true || r.body["team_id"] != "team-a" {
		t.Fatalf("create user: %d %s", r.status, r.raw)
	}
	// Idempotent on the id (api.md): the same body is 200, another is 409.
	if r := s.call("admin1", "POST", "/api/v1/admin/users", create); r.status != http.StatusOK {
		t.Fatalf("create again: %d %s", r.status, r.raw)
	}
	other := map[string]any{"id": "agent9", "name": "Someone Else", "roles": []string{"agent"}}
	if r := s.call("admin1", "POST", "/api/v1/admin/users", other); r.status != http.StatusConflict {
		t.Fatalf("create with other values: %d %s", r.status, r.raw)
	}

	r = s.call("admin1", "POST", "/api/v1/admin/users/agent9/tokens", map[string]any{"label": "laptop"})
	token, _ := r.body["token"].(string)
	if r.status != http.StatusCreated || token == "" || r.body["state"] != "active" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("issue token: %d %s", r.status, r.raw)
	}
	tokenID := r.body["id"].(string)
	if !strings.HasPrefix(token, tokenID+".") {
		t.Fatalf("token %q does not start with its id %q", token, tokenID)
	}
	// The list never shows a secret.
	r = s.call("admin1", "GET", "/api/v1/admin/users/agent9/tokens", nil)
	if r.status != http.StatusOK || len(r.body["items"].([]any)) != 1 || strings.Contains(string(r.raw), token) || strings.Contains(string(r.raw), `"token"`) {
		t.Fatalf("list tokens: %d %s", r.status, r.raw)
	}

	// The new user works with the token, as an agent and nothing more.
	if r := s.call(token, "GET", calendar, nil); r.status != http.StatusOK {
		t.Fatalf("new user's call: %d %s", r.status, r.raw)
	}
	if r := s.call(token, "GET", "/api/v1/admin/users", nil); r.status != http.StatusForbidden {
		t.Fatalf("an agent lists users: %d", r.status)
	}
	s.tokens["agent9"] = token
	cc := s.consoleClient("agent9")
	if !signedIn(cc) {
		t.Fatal("console sign-in with the new token failed")
	}

	// Deactivated: the next call is 401 and the console session has ended.
	r = s.call("admin1", "POST", "/api/v1/admin/users/agent9/deactivate", map[string]any{"reason": "left the company"})
	if r.status != http.StatusOK || r.body["active"] != false {
		t.Fatalf("deactivate: %d %s", r.status, r.raw)
	}
	if r := s.call(token, "GET", calendar, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("call after deactivation: %d, want 401", r.status)
	}
	if signedIn(cc) {
		t.Fatal("the console session survived the deactivation")
	}
	// And is gone for good: reactivating must not revive a browser left signed in.
	var sessions int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM console_sessions WHERE user_id = 'agent9'`).Scan(&sessions); err != nil || sessions != 0 {
		t.Fatalf("console sessions of the deactivated user: %d, %v", sessions, err)
	}
	if r := s.call("admin1", "POST", "/api/v1/admin/users/agent9/deactivate", nil); r.status != http.StatusConflict {
		t.Fatalf("deactivate twice: %d", r.status)
	}
	if r := s.call("admin1", "POST", "/api/v1/admin/users/agent9/tokens", nil); r.status != http.StatusConflict {
		t.Fatalf("a token for a deactivated user: %d", r.status)
	}
	rows := s.auditOf("user", "agent9")
	if !hasAudit(rows, "admin1", "active", "true", "false") || !hasAudit(rows, "admin1", "roles", nil, "agent") || !hasAudit(rows, "admin1", "team_id", nil, "team-a") {
		t.Fatalf("audit of agent9: %v", rows)
	}
	if rows[0]["field"] != "active" || rows[0]["reason"] != "left the company" {
		t.Fatalf("newest audit row: %v", rows[0])
	}

	// Reactivated: the kept token works again.
	if r := s.call("admin1", "POST", "/api/v1/admin/users/agent9/reactivate", nil); r.status != http.StatusOK || r.body["active"] != true {
		t.Fatalf("reactivate: %d %s", r.status, r.raw)
	}
	if r := s.call(token, "GET", calendar, nil); r.status != http.StatusOK {
		t.Fatalf("call after reactivation: %d", r.status)
	}

	// Revoked: 401 at once, and a session signed in with it ends.
	cc = s.consoleClient("agent9")
	if !signedIn(cc) {
		t.Fatal("second console sign-in failed")
	}
	r = s.call("admin1", "POST", "/api/v1/admin/tokens/"+tokenID+"/revoke", map[string]any{"reason": "laptop stolen"})
	if r.status != http.StatusOK || r.body["state"] != "revoked" || r.body["revoked_at"] == nil {
		t.Fatalf("revoke: %d %s", r.status, r.raw)
	}
	if r := s.call(token, "GET", calendar, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("call with a revoked token: %d, want 401", r.status)
	}
	if signedIn(cc) {
		t.Fatal("the console session survived the revocation")
	}
	if r := s.call("admin1", "POST", "/api/v1/admin/tokens/"+tokenID+"/revoke", nil); r.status != http.StatusConflict {
		t.Fatalf("revoke twice: %d", r.status)
	}
	if r := s.call("admin1", "POST", "/api/v1/admin/tokens/nosuchtoken/revoke", nil); r.status != http.StatusNotFound {
		t.Fatalf("revoke unknown: %d", r.status)
	}
	if !hasAudit(s.auditOf("token", tokenID), "admin1", "user_id", nil, "agent9") {
		t.Fatal("the token's issue is not in the audit")
	}

	// Expired: works until expires_at, 401 from then on.
	expires := time.Now().Add(2 * time.Second)
	r = s.call("admin1", "POST", "/api/v1/admin/users/agent9/tokens", map[string]any{"expires_at": expires.Format(time.RFC3339Nano)})
	short, _ := r.body["token"].(string)
	if r.status != http.StatusCreated || r.body["expires_at"] == nil {
		t.Fatalf("issue expiring token: %d %s", r.status, r.raw)
	}
	if r := s.call(short, "GET", calendar, nil); r.status != http.StatusOK {
		t.Fatalf("expiring token before expiry: %d", r.status)
	}
	time.Sleep(time.Until(expires) + 100*time.Millisecond)
	if r := s.call(short, "GET", calendar, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("expired token: %d, want 401", r.status)
	}
}

// R1: roles, team moves, supervisors and department heads, each audited
// with old and new value; the list filters.
func TestR1_AdminRolesTeamsAndHeads(t *testing.T) {
	s := startStack(t)
	r := s.call("admin1", "PUT", "/api/v1/admin/users/agent2/roles", map[string]any{"roles": []string{"manager", "agent"}, "reason": "promoted"})
	if r.status != http.StatusOK || len(r.body["roles"].([]any)) != 2 {
		t.Fatalf("set roles: %d %s", r.status, r.raw)
	}
	r = s.call("admin1", "PUT", "/api/v1/admin/users/agent2/team", map[string]any{"team_id": "team-a"})
	if r.status != http.StatusOK || r.body["team_id"] != "team-a" {
		t.Fatalf("move: %d %s", r.status, r.raw)
	}
	r = s.call("admin1", "PUT", "/api/v1/admin/teams/team-b/supervisor", map[string]any{"user_id": "agent2"})
	if r.status != http.StatusOK || r.body["manager_id"] != "agent2" {
		t.Fatalf("supervisor: %d %s", r.status, r.raw)
	}
	r = s.call("admin1", "PUT", "/api/v1/admin/departments/aftersales/head", map[string]any{"user_id": "manager1", "reason": "reorganisation"})
	if r.status != http.StatusOK || r.body["head_id"] != "manager1" {
		t.Fatalf("head: %d %s", r.status, r.raw)
	}
	users := s.auditOf("user", "agent2")
	if !hasAudit(users, "admin1", "roles", "agent", "agent,manager") || !hasAudit(users, "admin1", "team_id", "team-b", "team-a") {
		t.Fatalf("audit of agent2: %v", users)
	}
	if !hasAudit(s.auditOf("team", "team-b"), "admin1", "manager_id", nil, "agent2") {
		t.Fatal("the supervisor change is not audited")
	}
	heads := s.auditOf("department", "aftersales")
	if !hasAudit(heads, "admin1", "head_id", "head1", "manager1") || heads[0]["reason"] != "reorganisation" {
		t.Fatalf("audit of the head: %v", heads)
	}

	// Filters: managers of team-a, active ones.
	r = s.call("admin1", "GET", "/api/v1/admin/users?team_id=team-a&role=manager&active=true", nil)
	var ids []string
	for _, it := range r.body["items"].([]any) {
		ids = append(ids, it.(map[string]any)["id"].(string))
	}
	if r.status != http.StatusOK || strings.Join(ids, ",") != "agent2,manager1" {
		t.Fatalf("filtered list: %d %v", r.status, ids)
	}
	// Keyset pages: limit 2 walks every user once.
	seen, next := map[string]bool{}, ""
	for range 10 {
		p := "/api/v1/admin/users?limit=2"
		if next != "" {
			p += "&next=" + next
		}
		r = s.call("admin1", "GET", p, nil)
		for _, it := range r.body["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("user %s on two pages", id)
			}
			seen[id] = true
		}
		n, _ := r.body["next"].(string)
		if next = n; next == "" {
			break
		}
	}
	if len(seen) != 8 {
		t.Fatalf("paged through %d users, want the 8 demo users", len(seen))
	}
	// Audit pages too, newest first.
	r = s.call("admin1", "GET", "/api/v1/admin/audit?limit=1", nil)
	if n, _ := r.body["next"].(string); r.status != http.StatusOK || n == "" {
		t.Fatalf("audit page 1: %d %s", r.status, r.raw)
	}
	r2 := s.call("admin1", "GET", "/api/v1/admin/audit?limit=1&next="+r.body["next"].(string), nil)
	first, second := r.body["items"].([]any)[0].(map[string]any), r2.body["items"].([]any)[0].(map[string]any)
	if first["id"].(float64) <= second["id"].(float64) {
		t.Fatalf("audit not newest first: %v then %v", first, second)
	}
}

// R1: only the admin administers; bad input is 400 naming the fields;
// unknown ids are 404; an admin cannot lock themselves out (409).
func TestR1_AdminRefusals(t *testing.T) {
	s := startStack(t)
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/admin/users"}, {"GET", "/api/v1/admin/users"}, {"GET", "/api/v1/admin/users/agent1"},
		{"POST", "/api/v1/admin/users/agent1/deactivate"}, {"POST", "/api/v1/admin/users/agent1/reactivate"},
		{"PUT", "/api/v1/admin/users/agent1/roles"}, {"PUT", "/api/v1/admin/users/agent1/team"},
		{"POST", "/api/v1/admin/users/agent1/tokens"}, {"GET", "/api/v1/admin/users/agent1/tokens"},
		{"POST", "/api/v1/admin/tokens/abc/revoke"}, {"PUT", "/api/v1/admin/teams/team-a/supervisor"},
		{"PUT", "/api/v1/admin/departments/aftersales/head"}, {"GET", "/api/v1/admin/audit"},
	}
	for _, user := range []string{"agent1", "manager1", "head1", "hr1", "officer1", "committee1"} {
		for _, rt := range routes {
			if r := s.call(user, rt.method, rt.path, map[string]any{}); r.status != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 403", user, rt.method, rt.path, r.status)
			}
		}
	}
	if r := s.call("", "GET", "/api/v1/admin/users", nil); r.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.status)
	}

	bad := []struct {
		method, path string
		body         any
		fields       []string
	}{
		{"POST", "/api/v1/admin/users", map[string]any{"id": "-x", "name": "", "team_id": "nosuch", "roles": []string{"boss"}}, []string{"id", "name", "team_id", "roles"}},
		{"POST", "/api/v1/admin/users", map[string]any{"id": "u1", "name": "U", "roles": []string{}}, []string{"roles"}},
		{"POST", "/api/v1/admin/users", map[string]any{"id": "u1", "name": "U", "roles": []string{"agent", "agent"}}, []string{"roles"}},
		{"POST", "/api/v1/admin/users", `{"id":"u1","name":"U","roles":["agent"],"extra":1}`, []string{"extra"}},
		{"PUT", "/api/v1/admin/users/agent1/roles", map[string]any{"roles": []string{"root"}}, []string{"roles"}},
		{"PUT", "/api/v1/admin/users/agent1/team", map[string]any{}, []string{"team_id"}},
		{"PUT", "/api/v1/admin/users/agent1/team", map[string]any{"team_id": "team-z"}, []string{"team_id"}},
		{"PUT", "/api/v1/admin/teams/team-b/supervisor", map[string]any{"user_id": "agent1"}, []string{"user_id"}},
		{"PUT", "/api/v1/admin/departments/aftersales/head", map[string]any{"user_id": "ghost"}, []string{"user_id"}},
		{"POST", "/api/v1/admin/users/agent1/tokens", map[string]any{"expires_at": "tomorrow"}, []string{"expires_at"}},
		{"POST", "/api/v1/admin/users/agent1/tokens", map[string]any{"expires_at": "2020-01-01T00:00:00Z"}, []string{"expires_at"}},
		{"POST", "/api/v1/admin/tokens/a.b/revoke", nil, []string{"token_id"}},
		{"GET", "/api/v1/admin/users?role=boss&active=maybe", nil, []string{"role", "active"}},
		{"GET", "/api/v1/admin/audit?entity=planet&since=yesterday", nil, []string{"entity", "since"}},
	}
	for _, b := range bad {
		r := s.call("admin1", b.method, b.path, b.body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s %s: %d %s, want 400", b.method, b.path, r.status, r.raw)
			continue
		}
		for _, f := range b.fields {
			if _, ok := r.fields()[f]; !ok {
				t.Errorf("%s %s: no message for %s in %v", b.method, b.path, f, r.fields())
			}
		}
	}
	for _, p := range []struct{ method, path string }{
		{"GET", "/api/v1/admin/users/ghost"}, {"POST", "/api/v1/admin/users/ghost/deactivate"},
		{"GET", "/api/v1/admin/users/ghost/tokens"}, {"POST", "/api/v1/admin/users/ghost/tokens"},
	} {
		if r := s.call("admin1", p.method, p.path, nil); r.status != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", p.method, p.path, r.status)
		}
	}
	if r := s.call("admin1", "PUT", "/api/v1/admin/teams/team-z/supervisor", map[string]any{"user_id": ""}); r.status != http.StatusNotFound {
		t.Errorf("unknown team: %d", r.status)
	}
	if r := s.call("admin1", "POST", "/api/v1/admin/users/admin1/deactivate", nil); r.status != http.StatusConflict {
		t.Errorf("self-deactivation: %d, want 409", r.status)
	}
	if r := s.call("admin1", "PUT", "/api/v1/admin/users/admin1/roles", map[string]any{"roles": []string{"hr"}}); r.status != http.StatusConflict {
		t.Errorf("dropping one's own admin role: %d, want 409", r.status)
	}
	// Nothing refused left an audit row.
	if r := s.call("admin1", "GET", "/api/v1/admin/audit", nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("refused requests left audit rows: %s", r.raw)
	}
}

// R7: admin_audit is append-only for the application role: UPDATE,
// DELETE and TRUNCATE fail (trigger), INSERT works.
func TestR1_AdminAuditAppendOnly(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO admin_audit (actor_id, entity, entity_id, field, new_value) VALUES ('admin1', 'user', 'u1', 'active', 'false')`); err != nil {
		t.Fatalf("insert: %v", err)
	}
	for _, stmt := range []string{
		`UPDATE admin_audit SET new_value = 'true'`,
		`DELETE FROM admin_audit`,
		`TRUNCATE admin_audit`,
	} {
		_, err := pool.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only error", stmt, err)
		}
	}
	var n int
	var v string
	if err := pool.QueryRow(ctx, `SELECT count(*), min(new_value) FROM admin_audit`).Scan(&n, &v); err != nil || n != 1 || v != "false" {
		t.Fatalf("after the refused changes: %d rows, %q, %v", n, v, err)
	}
}

// The admin's console page (issue 12): it lists the users, creates one,
// sets roles, moves and issues a token whose secret it shows once; the
// Administration entry is in the admin's navigation only.
func TestR1_AdminConsolePage(t *testing.T) {
	s := startStack(t)
	cc := s.consoleClient("admin1")
	status, page := cc.get("/console/admin")
	if status != http.StatusOK || !strings.Contains(page, "agent1") || !strings.Contains(page, `href="/console/admin"`) {
		t.Fatalf("GET /console/admin: %d", status)
	}
	form := func(v url.Values) url.Values { v.Set("csrf", cc.csrf); return v }
	status, body0 := cc.post("/console/admin/create", form(url.Values{"id": {"agent8"}, "name": {"Console Agent"}, "team_id": {"team-b"}, "roles": {"agent", "committee"}}))
	if status != http.StatusOK {
		t.Fatalf("create through the console: %d %s", status, body0)
	}
	r := s.call("admin1", "GET", "/api/v1/admin/users/agent8", nil)
	if r.status != http.StatusOK || r.body["team_id"] != "team-b" || len(r.body["roles"].([]any)) != 2 {
		t.Fatalf("the console's user: %d %s", r.status, r.raw)
	}
	// A refusal is shown with the API's field message.
	if status, body := cc.post("/console/admin/roles", form(url.Values{"user_id": {"agent8"}})); status != http.StatusBadRequest || !strings.Contains(body, "roles") {
		t.Fatalf("roles without any: %d", status)
	}
	if status, _ := cc.post("/console/admin/roles", form(url.Values{"user_id": {"agent8"}, "roles": {"agent"}})); status != http.StatusOK {
		t.Fatalf("set roles: %d", status)
	}
	if status, _ := cc.post("/console/admin/team", form(url.Values{"user_id": {"agent8"}, "team_id": {"team-a"}})); status != http.StatusOK {
		t.Fatalf("move: %d", status)
	}
	if _, page := cc.get("/console/admin"); !strings.Contains(page, "Latest changes") || !strings.Contains(page, "agent,committee") {
		t.Error("the page does not show the latest changes")
	}
	users := s.auditOf("user", "agent8")
	if !hasAudit(users, "admin1", "roles", "agent,committee", "agent") || !hasAudit(users, "admin1", "team_id", "team-b", "team-a") {
		t.Fatalf("audit of the console's changes: %v", users)
	}
	status, body := cc.post("/console/admin/token", form(url.Values{"user_id": {"agent8"}, "label": {"console"}}))
	m := regexp.MustCompile(`copy it now\): ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if status != http.StatusCreated || m == nil {
		t.Fatalf("issue a token through the console: %d", status)
	}
	if r := s.call(m[1], "GET", "/api/v1/calendar?from=2026-01-05&to=2026-01-09", nil); r.status != http.StatusOK {
		t.Fatalf("the console's token: %d", r.status)
	}
	// The token list offers revoke (through /console/do).
	if _, page := cc.get("/console/admin?user=agent8"); !strings.Contains(page, "/console/do/admin/tokens/"+auth.TokenID(m[1])+"/revoke") {
		t.Fatal("no revoke form for the new token")
	}
	// Not an admin: no entry, and the page is refused.
	agent := s.consoleClient("agent1")
	if _, page := agent.get("/console/me"); strings.Contains(page, `href="/console/admin"`) {
		t.Error("an agent sees the Administration entry")
	}
	if status, _ := agent.get("/console/admin"); status != http.StatusForbidden {
		t.Errorf("an agent opens /console/admin: %d, want 403", status)
	}
}

// Input hygiene of the admin API (as TestInputHygieneEveryBodyFieldPathAndQuery
// for the rest): a bad byte in any body field, path or query parameter is a
// 400 naming it, never a 5xx, and leaves no audit row.
func TestR1_AdminInputHygiene(t *testing.T) {
	s := startStack(t)
	type body = map[string]any
	cases := []struct {
		method, path, field string
		body                func(v string) body
	}{
		{"POST", "/api/v1/admin/users", "id", func(v string) body { return body{"id": v, "name": "N", "roles": []string{"agent"}} }},
		{"POST", "/api/v1/admin/users", "name", func(v string) body { return body{"id": "n1", "name": v, "roles": []string{"agent"}} }},
		{"POST", "/api/v1/admin/users", "team_id", func(v string) body {
			return body{"id": "n1", "name": "N", "team_id": v, "roles": []string{"agent"}}
		}},
		{"POST", "/api/v1/admin/users", "roles", func(v string) body { return body{"id": "n1", "name": "N", "roles": []string{v}} }},
		{"POST", "/api/v1/admin/users", "reason", func(v string) body {
			return body{"id": "n1", "name": "N", "roles": []string{"agent"}, "reason": v}
		}},
		{"POST", "/api/v1/admin/users/agent1/deactivate", "reason", func(v string) body { return body{"reason": v} }},
		{"PUT", "/api/v1/admin/users/agent1/roles", "reason", func(v string) body { return body{"roles": []string{"agent"}, "reason": v} }},
		{"PUT", "/api/v1/admin/users/agent1/team", "team_id", func(v string) body { return body{"team_id": v} }},
		{"PUT", "/api/v1/admin/teams/team-b/supervisor", "user_id", func(v string) body { return body{"user_id": v} }},
		{"PUT", "/api/v1/admin/departments/aftersales/head", "reason", func(v string) body { return body{"user_id": "head1", "reason": v} }},
		{"POST", "/api/v1/admin/users/agent1/tokens", "label", func(v string) body { return body{"label": v} }},
		{"POST", "/api/v1/admin/users/agent1/tokens", "expires_at", func(v string) body { return body{"expires_at": v} }},
	}
	for _, c := range cases {
		for what, v := range badValues {
			if r := s.call("admin1", c.method, c.path, c.body(v)); r.status != http.StatusBadRequest || r.fields()[c.field] == nil {
				t.Errorf("%s %s with %s in %s: %d %s", c.method, c.path, what, c.field, r.status, r.raw)
			}
		}
	}
	for _, p := range []struct{ method, path, field string }{
		{"GET", "/api/v1/admin/users/%00", "id"},
		{"POST", "/api/v1/admin/users/a%07b/deactivate", "id"},
		{"PUT", "/api/v1/admin/teams/%00/supervisor", "id"},
		{"POST", "/api/v1/admin/tokens/%00/revoke", "token_id"},
		{"GET", "/api/v1/admin/users?team_id=%00", "team_id"},
		{"GET", "/api/v1/admin/audit?entity_id=%E4%B8%AD", "entity_id"},
		{"GET", "/api/v1/admin/audit?next=%00", "next"},
	} {
		if r := s.call("admin1", p.method, p.path, nil); r.status != http.StatusBadRequest || r.fields()[p.field] == nil {
			t.Errorf("%s %s: %d %s (want 400 naming %s)", p.method, p.path, r.status, r.raw, p.field)
		}
	}
	if r := s.call("admin1", "GET", "/api/v1/admin/audit", nil); len(r.body["items"].([]any)) != 0 {
		t.Errorf("refused requests left audit rows: %s", r.raw)
	}
}

// "On every server": a second server on the same PostgreSQL refuses a
// token revoked, and a user deactivated, through the first one, on its very
// next request (no server caches a principal).
func TestR1_AdminChangesSeenByEveryServer(t *testing.T) {
	s := startStack(t)
	other, err := server.New(server.Options{Logger: quiet, Pool: s.pool, Temporal: s.temporal, Location: time.UTC,
		TaskQueue: "e2e-" + t.Name(), Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(other)
	defer hs.Close()
	callOther := func(token string) int {
		req, _ := http.NewRequest("GET", hs.URL+"/api/v1/calendar?from=2026-01-05&to=2026-01-09", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	issue := func() (id, token string) {
		r := s.call("admin1", "POST", "/api/v1/admin/users/agent2/tokens", nil)
		if r.status != http.StatusCreated {
			t.Fatalf("issue: %d %s", r.status, r.raw)
		}
		return r.body["id"].(string), r.body["token"].(string)
	}
	id, token := issue()
	if st := callOther(token); st != http.StatusOK {
		t.Fatalf("the other server before revocation: %d", st)
	}
	s.must(s.call("admin1", "POST", "/api/v1/admin/tokens/"+id+"/revoke", nil), 200, "revoke")
	if st := callOther(token); st != http.StatusUnauthorized {
		t.Fatalf("the other server after revocation: %d, want 401", st)
	}
	_, token = issue()
	if st := callOther(token); st != http.StatusOK {
		t.Fatalf("the other server before deactivation: %d", st)
	}
	s.must(s.call("admin1", "POST", "/api/v1/admin/users/agent2/deactivate", nil), 200, "deactivate")
	if st := callOther(token); st != http.StatusUnauthorized {
		t.Fatalf("the other server after deactivation: %d, want 401", st)
	}
}
