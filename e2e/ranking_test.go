package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The R4.7 team ranking through HTTP: HR enters a month's items, everyone
// the ranking concerns reads it scoped to what they may see (R7), a team's
// manager calls E on a D team; bad input and wrong roles are refused.

// standings is a ranking answer's teams by id: "total rank grade".
func standings(r response) map[string]string {
	out := map[string]string{}
	teams, _ := r.body["teams"].([]any)
	for _, t := range teams {
		m := t.(map[string]any)
		out[m["team_id"].(string)] = fmt.Sprintf("%v %v %v", m["total"], m["rank"], m["grade"])
	}
	return out
}

// teamOf is one team of a ranking answer.
func teamOf(r response, id string) map[string]any {
	teams, _ := r.body["teams"].([]any)
	for _, t := range teams {
		if m := t.(map[string]any); m["team_id"] == id {
			return m
		}
	}
	return nil
}

func sameStandings(t *testing.T, what string, r response, want map[string]string) {
	t.Helper()
	got := standings(r)
	if len(got) != len(want) {
		t.Fatalf("%s: standings %v, want %v", what, got, want)
	}
	for team, w := range want {
		if got[team] != w {
			t.Errorf("%s: %s is %q, want %q (all: %v)", what, team, got[team], w, got)
		}
	}
}

func TestR4_7_TeamRankingThroughHTTP(t *testing.T) {
	s := startStack(t)
	// Four teams of the demo department: head1 heads them all, manager1
	// supervises team-a only.
	s.exec(`INSERT INTO teams (id, name, department_id) VALUES ('team-c', 'Team C', 'aftersales'), ('team-d', 'Team D', 'aftersales')`)
	month := monthOf(monthStart(-1))
	base := "/api/v1/rankings/" + month
	item := func(id string) string { return base + "/items/" + id }
	type body = map[string]any

	if r := s.must(s.call("hr1", "GET", base, nil), 200, "an empty month"); len(r.body["items"].([]any)) != 0 || r.body["team_count"] != 0.0 {
		t.Fatalf("empty month: %s", r.raw)
	}

	// visits, level 2, a 1, b and c tied 2, d 4 (n = 4): a 2x4 = 8,
	// b and c 2x3 = 6 (the better rank's points), d 2x1 = 2. Ranks by
	// total: a 1 A; b, c 2 B; d 4, the worst below 35, D.
	visits := body{"name": "走访客户 Customer visits", "level": 2, "ranks": body{"team-a": 1, "team-b": 2, "team-c": 2, "team-d": 4}}
	r := s.must(s.call("hr1", "PUT", item("visits"), visits), 201, "the first item")
	sameStandings(t, "after visits", r, map[string]string{"team-a": "8 1 A", "team-b": "6 2 B", "team-c": "6 2 B", "team-d": "2 4 D"})
	if r.body["team_count"] != 4.0 {
		t.Errorf("team_count %v", r.body["team_count"])
	}
	it := r.body["items"].([]any)[0].(map[string]any)
	if it["name"] != "走访客户 Customer visits" || it["updated_by"] != "hr1" || it["ranked"] != true ||
		it["points"].(map[string]any)["team-c"] != 6.0 || it["ranks"].(map[string]any)["team-d"] != 4.0 {
		t.Errorf("the item: %v", it)
	}
	if d := teamOf(r, "team-d"); fmt.Sprint(d["member_grades"]) != "[C D E]" || d["computed_grade"] != "D" || d["call"] != nil {
		t.Errorf("team-d: %v", d)
	}
	if a := teamOf(r, "team-a"); fmt.Sprint(a["member_grades"]) != "[A B C]" || a["team_name"] != "售后一组 Team A" {
		t.Errorf("team-a: %v", a)
	}
	// The same body again: 200, nothing changed, nothing recorded.
	s.must(s.call("hr1", "PUT", item("visits"), visits), 200, "the same item again")
	if n := countRows(t, s.pool, `SELECT count(*) FROM ranking_item_log WHERE item = 'visits'`); n != 1 {
		t.Errorf("log rows after an unchanged PUT: %d, want 1", n)
	}

	// repairs, level 4, d 1, c 2, b 3, a 4: d 16, c 12, b 8, a 4.
	// Totals: a 8+4 = 12, b 6+8 = 14, c 6+12 = 18, d 2+16 = 18.
	// c and d tie first (A, A: nobody is second, no B); b rank 3 C;
	// a rank 4, the worst, 12 < 35: D.
	r = s.must(s.call("hr1", "PUT", item("repairs"), body{"level": 4, "ranks": body{"team-d": 1, "team-c": 2, "team-b": 3, "team-a": 4}}), 201, "repairs")
	sameStandings(t, "after repairs", r, map[string]string{"team-a": "12 4 D", "team-b": "14 3 C", "team-c": "18 1 A", "team-d": "18 1 A"})
	// An item set ahead, not ranked: counts for nothing.
	r = s.must(s.call("hr1", "PUT", item("training"), body{"level": 1}), 201, "an unranked item")
	sameStandings(t, "after an unranked item", r, map[string]string{"team-a": "12 4 D", "team-b": "14 3 C", "team-c": "18 1 A", "team-d": "18 1 A"})

	// Bad input: 400 naming the field, nothing stored.
	ranks4 := func(a, b, c, d int) body { return body{"team-a": a, "team-b": b, "team-c": c, "team-d": d} }
	for _, c := range []struct {
		what, path string
		body       any
		field      string
	}{
		{"level 5", item("x"), body{"level": 5, "ranks": ranks4(1, 2, 3, 4)}, "level"},
		{"level 0", item("x"), body{"level": 0}, "level"},
		{"no level", item("x"), body{"ranks": ranks4(1, 2, 3, 4)}, "level"},
		{"a rank out of range", item("x"), body{"level": 1, "ranks": ranks4(1, 2, 3, 5)}, "ranks.team-d"},
		{"rank 0", item("x"), body{"level": 1, "ranks": ranks4(0, 1, 2, 3)}, "ranks.team-a"},
		{"dense ranks after a tie", item("x"), body{"level": 1, "ranks": ranks4(1, 1, 2, 4)}, "ranks.team-c"},
		{"an unknown team", item("x"), body{"level": 1, "ranks": body{"team-a": 1, "team-b": 2, "team-c": 3, "team-d": 4, "team-z": 5}}, "ranks.team-z"},
		{"a team left out", item("x"), body{"level": 1, "ranks": body{"team-a": 1, "team-b": 2, "team-c": 3}}, "ranks"},
		{"an odd team key", item("x"), body{"level": 1, "ranks": body{"a\x00b": 1}}, "ranks"},
		{"a rank as text", item("x"), body{"level": 1, "ranks": body{"team-a": "1"}}, "ranks"},
		{"a NUL in the name", item("x"), body{"name": "a\x00b", "level": 1}, "name"},
		{"an unknown field", item("x"), body{"level": 1, "weight": 2}, "weight"},
		{"month 13", "/api/v1/rankings/2026-13/items/x", body{"level": 1}, "month"},
		{"a month too far ahead", "/api/v1/rankings/2099-01/items/x", body{"level": 1}, "month"},
		{"an item id with a space", base + "/items/a%20b", body{"level": 1}, "item"},
	} {
		if r := s.call("hr1", "PUT", c.path, c.body); r.status != http.StatusBadRequest || r.fields()[c.field] == nil {
			t.Errorf("%s: %d %s, want 400 naming %s", c.what, r.status, r.raw, c.field)
		}
	}
	// A new month's first item ranks every team.
	other := monthOf(monthStart(-2))
	if r := s.call("hr1", "PUT", "/api/v1/rankings/"+other+"/items/x", body{"level": 1, "ranks": body{"team-a": 1, "team-b": 2}}); r.status != 400 ||
		!strings.Contains(fmt.Sprint(r.fields()["ranks"]), "every team") {
		t.Errorf("a first item ranking two of four teams: %d %s", r.status, r.raw)
	}
	if r := s.must(s.call("hr1", "GET", base, nil), 200, "after the refusals"); len(r.body["items"].([]any)) != 3 {
		t.Errorf("refused PUTs stored items: %s", r.raw)
	}

	// Who reads what (R7): officers every team; manager1 team-a only (its
	// rank still among all four); head1 the department's four; agents and
	// the committee nothing. Only HR enters items.
	sameStandings(t, "officer", s.must(s.call("officer1", "GET", base, nil), 200, "officer"),
		map[string]string{"team-a": "12 4 D", "team-b": "14 3 C", "team-c": "18 1 A", "team-d": "18 1 A"})
	r = s.must(s.call("manager1", "GET", base, nil), 200, "manager")
	sameStandings(t, "manager1", r, map[string]string{"team-a": "12 4 D"})
	for _, x := range r.body["items"].([]any) {
		if ranks := x.(map[string]any)["ranks"].(map[string]any); len(ranks) > 1 || (len(ranks) == 1 && ranks["team-a"] == nil) {
			t.Errorf("manager1 sees other teams' ranks: %v", ranks)
		}
	}
	if r.body["team_count"] != 4.0 {
		t.Errorf("manager1's team_count: %v", r.body["team_count"])
	}
	if got := standings(s.must(s.call("head1", "GET", base, nil), 200, "head")); len(got) != 4 {
		t.Errorf("head1 sees %v", got)
	}
	for _, u := range []string{"agent1", "committee1", "admin1"} {
		if r := s.call(u, "GET", base, nil); r.status != http.StatusForbidden {
			t.Errorf("%s reads the ranking: %d", u, r.status)
		}
	}
	for _, u := range []string{"manager1", "head1", "officer1", "agent1"} {
		if r := s.call(u, "PUT", item("visits"), visits); r.status != http.StatusForbidden {
			t.Errorf("%s enters an item: %d", u, r.status)
		}
		if r := s.call(u, "DELETE", item("visits"), nil); r.status != http.StatusForbidden {
			t.Errorf("%s deletes an item: %d", u, r.status)
		}
	}
	if r := s.call("", "GET", base, nil); r.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.status)
	}

	// E at the manager's call (R4.7): manager1 calls it on team-a (D).
	grade := func(team string) string { return base + "/teams/" + team + "/grade" }
	r = s.must(s.call("manager1", "PUT", grade("team-a"), body{"grade": "E", "reason": "two customer complaints ignored"}), 200, "E on a D team")
	a := teamOf(r, "team-a")
	call, _ := a["call"].(map[string]any)
	if a["grade"] != "E" || a["computed_grade"] != "D" || fmt.Sprint(a["member_grades"]) != "[C D E]" ||
		call["by"] != "manager1" || call["reason"] != "two customer complaints ignored" || call["at"] == nil {
		t.Errorf("team-a after the call: %v", a)
	}
	s.must(s.call("manager1", "PUT", grade("team-a"), body{"grade": "E", "reason": "again"}), 200, "the same call again")
	if n := countRows(t, s.pool, `SELECT count(*) FROM team_grade_calls`); n != 1 {
		t.Errorf("calls after a repeated call: %d, want 1", n)
	}
	for _, c := range []struct {
		what, user, team string
		body             any
		status           int
		field            string
	}{
		{"another team's manager", "manager1", "team-b", body{"grade": "E", "reason": "r"}, 403, ""},
		{"an agent", "agent1", "team-a", body{"grade": "E", "reason": "r"}, 403, ""},
		{"an officer", "officer1", "team-a", body{"grade": "E", "reason": "r"}, 403, ""},
		{"E on a C team", "head1", "team-b", body{"grade": "E", "reason": "r"}, 409, ""},
		{"E on an A team", "hr1", "team-c", body{"grade": "E", "reason": "r"}, 409, ""},
		{"an unknown team (hr)", "hr1", "team-z", body{"grade": "E", "reason": "r"}, 404, ""},
		{"an unknown team (manager)", "manager1", "team-z", body{"grade": "E", "reason": "r"}, 404, ""},
		{"grade C", "hr1", "team-a", body{"grade": "C", "reason": "r"}, 400, "grade"},
		{"no reason", "hr1", "team-a", body{"grade": "D"}, 400, "reason"},
		{"a bad team id", "hr1", "a%07b", body{"grade": "E", "reason": "r"}, 400, "team"},
	} {
		r := s.call(c.user, "PUT", grade(c.team), c.body)
		if r.status != c.status || (c.field != "" && r.fields()[c.field] == nil) {
			t.Errorf("%s: %d %s, want %d %s", c.what, r.status, r.raw, c.status, c.field)
		}
	}
	// HR withdraws it: back to D, both calls kept (R7).
	r = s.must(s.call("hr1", "PUT", grade("team-a"), body{"grade": "D", "reason": "the complaints were the customer's error"}), 200, "withdraw")
	if a := teamOf(r, "team-a"); a["grade"] != "D" || a["call"].(map[string]any)["by"] != "hr1" {
		t.Errorf("team-a after the withdrawal: %v", a)
	}
	if n := countRows(t, s.pool, `SELECT count(*) FROM team_grade_calls WHERE team_id = 'team-a'`); n != 2 {
		t.Errorf("calls kept: %d, want 2", n)
	}

	// Deleting an item (hr): the month is retallied; repairs alone gives
	// d 16 A, c 12 B, b 8 C, a 4 D. Logged with who.
	s.must(s.call("hr1", "DELETE", item("visits"), nil), 204, "delete visits")
	if r := s.call("hr1", "DELETE", item("visits"), nil); r.status != http.StatusNotFound {
		t.Errorf("deleting it again: %d", r.status)
	}
	sameStandings(t, "after deleting visits", s.must(s.call("hr1", "GET", base, nil), 200, "after delete"),
		map[string]string{"team-a": "4 4 D", "team-b": "8 3 C", "team-c": "12 2 B", "team-d": "16 1 A"})
	if n := countRows(t, s.pool, `SELECT count(*) FROM ranking_item_log WHERE actor_id = 'hr1' AND action = 'delete' AND item = 'visits'`); n != 1 {
		t.Errorf("the deletion's log rows: %d", n)
	}
}

// The ranking page in a real browser (R4.7): HR enters an item through the
// form (a refused one shows the API's field message in place), the
// standings appear; a manager sees only their team's row and calls E on
// it; an agent has no such page. axe-core on each view.
func TestConsole_R4_7_HREntersAnItemManagerSeesRanking(t *testing.T) {
	s := startStack(t)
	s.live()
	s.exec(`INSERT INTO teams (id, name, department_id) VALUES ('team-c', '售后三组 Team C', 'aftersales')`)
	month := monthOf(monthStart(-1))
	page := "/console/ranking?month=" + month

	b := s.newBrowser()
	b.signIn("hr1")
	b.open(page)
	if nav := b.text("header.top nav"); !strings.Contains(nav, "Ranking") {
		t.Errorf("HR's navigation: %q", nav)
	}
	b.axe()
	// A refusal first: 1, 1, 2 is not a ranking (tied teams share the
	// better rank, so the third is 3): the API's message beside the form.
	b.run(click("#new-item > summary"), typeInto("#item-new-id", "visits"), typeInto("#item-new-name", "走访客户 Customer visits"),
		setValue("#item-new-level", "2"), setValue("#item-new-rank-team-a", "1"), setValue("#item-new-rank-team-b", "1"),
		setValue("#item-new-rank-team-c", "2"), click("#new-item button[type=submit]"))
	b.waitText("#new-item .result", "must be 3")
	// Level 2 among 3 teams: b 1st 2x3 = 6 (A), c 2nd 2x2 = 4 (B), a 3rd
	// 2x1 = 2, the worst below 35 (D).
	b.run(setValue("#item-new-rank-team-a", "3"), setValue("#item-new-rank-team-b", "1"), setValue("#item-new-rank-team-c", "2"),
		click("#new-item button[type=submit]"))
	b.waitText("#status", "Item saved.")
	b.waitText("#standings", "走访客户 Customer visits")
	b.waitText("#team-team-b", "6")
	if row := b.text("#team-team-a"); !strings.Contains(row, "D") || !strings.Contains(row, "C, D, E") {
		t.Errorf("team-a's row for HR: %q", row)
	}
	b.axe()
	b.shot("hr")
	if r := s.must(s.call("hr1", "GET", "/api/v1/rankings/"+month, nil), 200, "the stored item"); r.body["items"].([]any)[0].(map[string]any)["updated_by"] != "hr1" {
		t.Errorf("the item as stored: %s", r.raw)
	}
	b.signOut()

	// manager1 supervises team-a: their row only, its rank among all three.
	b.signIn("manager1")
	b.open(page)
	b.waitText("#standings", "售后一组 Team A")
	if table := b.text("#standings"); strings.Contains(table, "Team B") || strings.Contains(table, "Team C") {
		t.Errorf("manager1 sees other teams: %q", table)
	}
	if row := b.text("#team-team-a"); !strings.Contains(row, "3") || !strings.Contains(row, "D") {
		t.Errorf("team-a's row for manager1: %q", row)
	}
	b.axe()
	// E at the manager's call.
	b.run(click("#team-team-a details.action > summary"), typeInto("#call-team-a-reason", "two ignored complaints"),
		click("#team-team-a button[type=submit]"))
	b.waitText("#status", "Grade recorded.")
	b.waitText("#team-team-a", "at the manager's call")
	b.axe()
	b.shot("manager")
	if r := s.call("manager1", "GET", "/api/v1/rankings/"+month, nil); teamOf(r, "team-a")["grade"] != "E" {
		t.Errorf("team-a after the call: %s", r.raw)
	}
	if _, page := s.consoleClient("manager1").get(page); strings.Contains(page, "Enter an item") {
		t.Error("a manager is offered HR's item form")
	}

	// An agent: no entry, and the page is refused.
	agent := s.consoleClient("agent1")
	if _, home := agent.get("/console/me"); strings.Contains(home, `href="/console/ranking"`) {
		t.Error("an agent sees the Ranking entry")
	}
	if status, _ := agent.get(page); status != http.StatusForbidden {
		t.Errorf("an agent opens the ranking: %d, want 403", status)
	}
}
