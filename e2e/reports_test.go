package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/acme/aftersales/auth"
)

// The lists of deductions and appeals and the R7 reports, end to end: data
// entered through the API where it can be (complaints, deductions,
// assessment cycles, appeals, rewards), direct inserts into the read
// models for historic months; who sees which rows (R7); bad input.

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// monthOf is the month of t in the calendar's zone, YYYY-MM.
func monthOf(t time.Time) string { return t.In(shanghai).Format("2006-01") }

// monthStart is the first instant of the month n months from now's (n <= 0).
func monthStart(n int) time.Time {
	now := time.Now().In(shanghai)
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, shanghai).AddDate(0, n, 0)
}

// items is a list answer's items.
func (r response) items() []map[string]any {
	var out []map[string]any
	list, _ := r.body["items"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any))
	}
	return out
}

// column is field of each item, as text.
func column(items []map[string]any, field string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, fmt.Sprint(it[field]))
	}
	return out
}

// sorted is a sorted copy.
func sorted(v []string) []string { return slices.Sorted(slices.Values(v)) }

func (s *stack) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// seedResult inserts a final monthly result (and its month's cycle) for a
// historic month.
func (s *stack) seedResult(month, employee, team, score, band string) string {
	s.t.Helper()
	s.exec(`INSERT INTO assessment_cycles (month, status, started_by) VALUES ($1, 'final', 'hr1') ON CONFLICT DO NOTHING`, month)
	id := month + "_" + employee
	s.exec(`INSERT INTO assessments (id, month, employee_id, team_id, surveys, work_orders, first_time_fixes, complaints,
	          timely_complaints, score, band, status, computed_at)
	        VALUES ($1, $2, $3, $4, 0, 0, 0, 1, 1, $5::numeric, $6, 'final', now())`, id, month, employee, team, score, band)
	return id
}

// badInput checks that GET path as user is 400 naming field.
func (s *stack) badInput(user, path, field string) {
	s.t.Helper()
	if r := s.call(user, "GET", path, nil); r.status != http.StatusBadRequest || r.fields()[field] == nil {
		s.t.Errorf("GET %s: %d %s, want 400 on %s", path, r.status, r.raw, field)
	}
}

// R7, R4.4: GET /deductions shows each caller the deductions they may see
// (HR and escalation officers all, a manager their teams' people and their
// own, anyone else their own), filters them, and pages through them; a
// manager finds the proposal of a missed clock (R3) and confirms it.
func TestR7_DeductionsList(t *testing.T) {
	s := startStack(t)
	id := func(r response) string { return fmt.Sprint(int64(r.body["id"].(float64))) }
	d1 := id(s.must(s.call("manager1", "POST", "/api/v1/deductions", deductionBody("agent1", "rude_to_customer", time.Hour, "raised voice")), 201, "d1"))
	d2 := id(s.must(s.call("head1", "POST", "/api/v1/deductions", deductionBody("agent2", "untimely_service", time.Hour, "late visit")), 201, "d2"))
	d3 := id(s.must(s.call("head1", "POST", "/api/v1/deductions", deductionBody("manager1", "training_unprepared", 40*day, "no slides")), 201, "d3"))
	// R3: a complaint back-dated past its contact deadline proposes a
	// 20-point deduction against its assignee by itself.
	c := complaintBody("C-R7-1")
	c["received_at"] = ago(30 * time.Hour)
	s.must(s.call("officer1", "POST", "/api/v1/complaints", c), 201, "complaint")
	var proposal map[string]any
	s.poll("the missed clock's proposal", 10*time.Second, func() bool {
		for _, it := range s.must(s.call("manager1", "GET", "/api/v1/deductions?status=proposed&employee_id=agent1", nil), 200, "queue").items() {
			if it["source_complaint_no"] == "C-R7-1" {
				proposal = it
			}
		}
		return proposal != nil
	})
	d4 := fmt.Sprint(int64(proposal["id"].(float64)))
	if proposal["points"] != 20.0 || proposal["reason_code"] != "untimely_service" || proposal["team_id"] != "team-a" ||
		proposal["decided_by"] != nil || proposal["proposed_by"] != "system" {
		t.Errorf("the proposal: %v", proposal)
	}

	// R7: whose deductions each caller sees.
	for user, want := range map[string][]string{
		"hr1":        {d1, d2, d3, d4},
		"officer1":   {d1, d2, d3, d4},
		"head1":      {d1, d2, d3, d4}, // heads both teams
		"manager1":   {d1, d3, d4},     // team-a: agent1 and manager1
		"agent1":     {d1, d4},
		"agent2":     {d2},
		"committee1": {},
	} {
		r := s.must(s.call(user, "GET", "/api/v1/deductions", nil), 200, user+"'s deductions")
		if got := sorted(column(r.items(), "id")); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s sees %v, want %v", user, got, sorted(want))
		}
	}
	// Oldest occurrence first: d3, 40 days ago.
	all := s.call("hr1", "GET", "/api/v1/deductions", nil).items()
	for i := 1; i < len(all); i++ {
		prev, _ := time.Parse(time.RFC3339, all[i-1]["occurred_at"].(string))
		cur, _ := time.Parse(time.RFC3339, all[i]["occurred_at"].(string))
		if cur.Before(prev) {
			t.Errorf("not in occurred_at order: %v", column(all, "occurred_at"))
		}
	}
	if d := all[0]; fmt.Sprint(d["id"]) != d3 || d["team_id"] != "team-a" || d["employee_id"] != "manager1" || d["note"] != "no slides" ||
		d["status"] != "proposed" || d["proposed_by"] != "head1" || d["source_complaint_no"] != nil {
		t.Errorf("d3 as listed first: %v", d)
	}

	// Filters.
	for q, want := range map[string][]string{
		"?team_id=team-b":                            {d2},
		"?employee_id=agent1":                        {d1, d4},
		"?month=" + monthOf(time.Now().Add(-40*day)): {d3}, // R4.0: by occurred_at in Asia/Shanghai
		"?status=proposed&team_id=team-a":            {d1, d3, d4},
	} {
		if got := sorted(column(s.must(s.call("hr1", "GET", "/api/v1/deductions"+q, nil), 200, q).items(), "id")); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s: %v, want %v", q, got, sorted(want))
		}
	}
	// The manager confirms the proposal found in their queue (R4.4).
	s.must(s.call("manager1", "POST", "/api/v1/deductions/"+d4+"/confirm", map[string]any{"note": "the log shows no call"}), 200, "confirm")
	if got := column(s.call("manager1", "GET", "/api/v1/deductions?status=proposed&employee_id=agent1", nil).items(), "id"); !slices.Equal(got, []string{d1}) {
		t.Errorf("queue after the confirmation: %v", got)
	}
	conf := s.call("manager1", "GET", "/api/v1/deductions?status=confirmed", nil).items()
	if len(conf) != 1 || conf[0]["decided_by"] != "manager1" || conf[0]["decision_note"] != "the log shows no call" || conf[0]["source_complaint_no"] != "C-R7-1" {
		t.Errorf("confirmed: %v", conf)
	}

	// Pages: limit and the opaque next cursor.
	p1 := s.must(s.call("hr1", "GET", "/api/v1/deductions?limit=3", nil), 200, "page 1")
	next, _ := p1.body["next"].(string)
	if len(p1.items()) != 3 || next == "" {
		t.Fatalf("page 1: %s", p1.raw)
	}
	p2 := s.must(s.call("hr1", "GET", "/api/v1/deductions?limit=3&next="+url.QueryEscape(next), nil), 200, "page 2")
	if got := sorted(append(column(p1.items(), "id"), column(p2.items(), "id")...)); !slices.Equal(got, sorted([]string{d1, d2, d3, d4})) || p2.body["next"] != nil {
		t.Errorf("pages: %v then %s", column(p1.items(), "id"), p2.raw)
	}

	// Bad input: 400 naming the parameter.
	for q, field := range map[string]string{
		"?status=maybe":      "status",
		"?month=2026-13":     "month",
		"?month=202603":      "month",
		"?limit=0":           "limit",
		"?limit=501":         "limit",
		"?next=not-a-cursor": "next",
		"?employee_id=a%00b": "employee_id",
	} {
		s.badInput("manager1", "/api/v1/deductions"+q, field)
	}
	if r := s.call("", "GET", "/api/v1/deductions", nil); r.status != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.status)
	}
}

// historicComplaint is a read-model row of a historic month (R3 clocks).
type historicComplaint struct {
	no, assignee, team, countedFor string
	received                       time.Time
	contactMet, planMet, resMet    time.Duration // offset from the clock's deadline; noMet: never met
	paused, resolved, unsynced     bool
}

const noMet = time.Duration(1 << 62)

func (s *stack) seedComplaint(c historicComplaint) {
	s.t.Helper()
	contact, plan, res := c.received.Add(24*time.Hour), c.received.Add(48*time.Hour), c.received.Add(9*day)
	met := func(due time.Time, off time.Duration) *time.Time {
		if off == noMet {
			return nil
		}
		v := due.Add(off)
		return &v
	}
	status, counted := "open", &c.countedFor
	var resolvedAt *time.Time
	if c.resolved {
		status, resolvedAt = "resolved", met(res, c.resMet)
	}
	if c.countedFor == "" {
		counted = nil
	}
	var lastSeq *int
	if !c.unsynced {
		one := 1
		lastSeq = &one
	}
	s.exec(`INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product, category, description,
	          assignee_id, team_id, received_at, created_by, status, resolved_at, contact_due_at, contact_met_at, plan_due_at,
	          plan_met_at, resolution_due_at, resolution_met_at, resolution_paused, counted_for, last_seq)
	        VALUES ($1, sha256(convert_to($1::text, 'UTF8')), 'Ms Secret Customer', '13912345678', 'kettle', 'repair', 'leaks',
	          $2, $3, $4, 'officer1', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.no, c.assignee, c.team, c.received, status, resolvedAt, contact, met(contact, c.contactMet), plan, met(plan, c.planMet),
		res, met(res, c.resMet), c.paused, counted, lastSeq)
}

// counts reads a clock's counts of a timeliness row.
func counts(row map[string]any, clock string) [4]float64 {
	c, _ := row[clock].(map[string]any)
	return [4]float64{c["on_time"].(float64), c["late"].(float64), c["overdue"].(float64), c["open"].(float64)}
}

// byKey indexes a report's rows by field.
func byKey(v any, field string) map[string]map[string]any {
	out := map[string]map[string]any{}
	list, _ := v.([]any)
	for _, it := range list {
		m := it.(map[string]any)
		out[m[field].(string)] = m
	}
	return out
}

// R7, R3: the monthly timeliness report per agent and team: each clock on
// time, late, overdue or open by the assessment's own rule (R3, R4.3), the
// complaints timely, untimely or pending and the on-time rate; scoped
// (R7); no customer data.
func TestR7_TimelinessReport(t *testing.T) {
	s := startStack(t)
	h := monthStart(-3)
	month := h.Format("2006-01")
	recv := h.AddDate(0, 0, 9).Add(10 * time.Hour)
	early, late := -time.Hour, time.Hour
	for _, c := range []historicComplaint{
		{no: "H-1", assignee: "agent1", team: "team-a", received: recv, contactMet: early, planMet: early, resMet: early, resolved: true},
		{no: "H-2", assignee: "agent1", team: "team-a", received: recv, contactMet: late, planMet: early, resMet: early, resolved: true},
		// Met at the deadline instant: late (R2).
		{no: "H-3", assignee: "agent1", team: "team-a", received: recv, contactMet: 0, planMet: noMet, resMet: noMet},
		{no: "H-4", assignee: "agent2", team: "team-b", received: recv, contactMet: early, planMet: early, resMet: noMet, paused: true},
		{no: "H-5", assignee: "agent2", team: "team-b", received: recv, contactMet: early, planMet: early, resMet: early, resolved: true},
		// Missed by agent1, then reassigned to agent2: agent1's (R4.0).
		{no: "H-6", assignee: "agent2", team: "team-b", countedFor: "agent1", received: recv, contactMet: late, planMet: early, resMet: early, resolved: true},
		// Not this month's, and an interrupted create (never synced).
		{no: "H-7", assignee: "agent1", team: "team-a", received: recv.AddDate(0, 1, 0), contactMet: late, planMet: late, resMet: late, resolved: true},
		{no: "H-8", assignee: "agent1", team: "team-a", received: recv, contactMet: noMet, planMet: noMet, resMet: noMet, unsynced: true},
	} {
		s.seedComplaint(c)
	}
	r := s.must(s.call("hr1", "GET", "/api/v1/reports/timeliness?month="+month, nil), 200, "report")
	if r.body["month"] != month || r.body["as_of"] == nil {
		t.Errorf("report head: %s", r.raw)
	}
	agents, teams := byKey(r.body["agents"], "agent_id"), byKey(r.body["teams"], "team_id")
	a1, a2 := agents["agent1"], agents["agent2"]
	if len(agents) != 2 || a1 == nil || a2 == nil {
		t.Fatalf("agents: %s", r.raw)
	}
	// agent1: H-1 timely; H-2, H-3 (contact at the instant; plan and
	// resolution overdue), H-6 untimely: 1 / 4 = 25.0.
	if a1["team_id"] != "team-a" || a1["received"] != 4.0 || counts(a1, "contact") != [4]float64{1, 3, 0, 0} ||
		counts(a1, "plan") != [4]float64{3, 0, 1, 0} || counts(a1, "resolution") != [4]float64{3, 0, 1, 0} ||
		a1["timely"] != 1.0 || a1["untimely"] != 3.0 || a1["pending"] != 0.0 || a1["on_time_rate"] != 25.0 {
		t.Errorf("agent1: %v", a1)
	}
	// agent2: H-5 timely; H-4's paused resolution is not missed: pending. 1 / 1 = 100.0.
	if a2["team_id"] != "team-b" || a2["received"] != 2.0 || counts(a2, "contact") != [4]float64{2, 0, 0, 0} ||
		counts(a2, "resolution") != [4]float64{1, 0, 0, 1} || a2["timely"] != 1.0 || a2["untimely"] != 0.0 ||
		a2["pending"] != 1.0 || a2["on_time_rate"] != 100.0 {
		t.Errorf("agent2: %v", a2)
	}
	if ta, tb := teams["team-a"], teams["team-b"]; len(teams) != 2 || ta["agents"] != 1.0 || ta["received"] != 4.0 || ta["on_time_rate"] != 25.0 ||
		tb["received"] != 2.0 || tb["on_time_rate"] != 100.0 || counts(tb, "resolution") != [4]float64{1, 0, 0, 1} {
		t.Errorf("teams: %v", teams)
	}
	// R7: no personal data of customers.
	if bytes.Contains(r.raw, []byte("Secret")) || bytes.Contains(r.raw, []byte("13912345678")) {
		t.Errorf("customer data in the report: %s", r.raw)
	}

	// R7: whose rows each caller sees; an agent their own, no team.
	for user, want := range map[string][2][]string{
		"officer1": {{"agent1", "agent2"}, {"team-a", "team-b"}},
		"head1":    {{"agent1", "agent2"}, {"team-a", "team-b"}},
		"manager1": {{"agent1"}, {"team-a"}},
		"agent1":   {{"agent1"}, {}},
		"agent2":   {{"agent2"}, {}},
	} {
		r := s.must(s.call(user, "GET", "/api/v1/reports/timeliness?month="+month, nil), 200, user)
		ag, tm := byKey(r.body["agents"], "agent_id"), byKey(r.body["teams"], "team_id")
		if got := sorted(mapKeys(ag)); !slices.Equal(got, want[0]) {
			t.Errorf("%s sees agents %v, want %v", user, got, want[0])
		}
		if got := sorted(mapKeys(tm)); !slices.Equal(got, want[1]) {
			t.Errorf("%s sees teams %v, want %v", user, got, want[1])
		}
	}
	for _, user := range []string{"committee1", "admin1"} {
		if r := s.call(user, "GET", "/api/v1/reports/timeliness?month="+month, nil); r.status != http.StatusForbidden {
			t.Errorf("%s: %d %s", user, r.status, r.raw)
		}
	}

	// Live: a complaint received 49 hours ago through the API, contacted
	// now (late), its plan never given (overdue since an hour).
	c := complaintBody("C-R7-2")
	c["assignee_id"], c["received_at"] = "agent2", ago(49*time.Hour)
	s.must(s.call("officer1", "POST", "/api/v1/complaints", c), 201, "live complaint")
	s.must(s.call("agent2", "POST", "/api/v1/complaints/C-R7-2/contact", map[string]any{"note": "called back"}), 200, "contact")
	live := monthOf(time.Now().Add(-49 * time.Hour))
	var row map[string]any
	s.poll("the live complaint in the report", 10*time.Second, func() bool {
		row = byKey(s.must(s.call("agent2", "GET", "/api/v1/reports/timeliness?month="+live, nil), 200, "live").body["agents"], "agent_id")["agent2"]
		return row != nil && counts(row, "contact")[1] == 1
	})
	if row["received"] != 1.0 || counts(row, "contact") != [4]float64{0, 1, 0, 0} || counts(row, "plan") != [4]float64{0, 0, 1, 0} ||
		counts(row, "resolution") != [4]float64{0, 0, 0, 1} || row["untimely"] != 1.0 || row["on_time_rate"] != 0.0 {
		t.Errorf("the live complaint: %v", row)
	}

	// Bad input.
	for q, field := range map[string]string{"": "month", "?month=2026-13": "month", "?month=march": "month", "?month=2999-01": "month"} {
		s.badInput("hr1", "/api/v1/reports/timeliness"+q, field)
	}
}

func mapKeys[V any](m map[string]V) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// points reads a trend series' values (nil for a month without one).
func points(series map[string]any, field string) []any {
	var out []any
	for _, p := range series["points"].([]any) {
		out = append(out, p.(map[string]any)[field])
	}
	return out
}

// R7, R4.4: the CSI ranking of a month per agent and team (team = the
// average, one decimal half-up) and the 12-month trend; scoped (R7).
func TestR7_CSIReport(t *testing.T) {
	s := startStack(t)
	s.addUser("agent3", "team-b", auth.Agent)
	m := monthStart(-2)
	month, prev, old := m.Format("2006-01"), m.AddDate(0, -1, 0).Format("2006-01"), m.AddDate(0, -12, 0).Format("2006-01")
	s.seedResult(month, "agent1", "team-a", "92.0", "excellent")
	s.seedResult(month, "manager1", "team-a", "80.0", "good")
	s.seedResult(month, "agent2", "team-b", "92.0", "excellent")
	s.seedResult(month, "agent3", "team-b", "71.5", "fair")
	s.seedResult(prev, "agent1", "team-a", "70.0", "fair")
	s.seedResult(prev, "agent2", "team-b", "65.3", "poor")
	s.seedResult(old, "agent1", "team-a", "50.0", "failing") // 13 months back: outside the trend

	r := s.must(s.call("hr1", "GET", "/api/v1/reports/csi?month="+month, nil), 200, "report")
	if r.body["month"] != month || r.body["ranked"] != 4.0 || r.body["teams_ranked"] != 2.0 {
		t.Errorf("report head: %s", r.raw)
	}
	agents := r.body["agents"].([]any)
	var order []string
	for _, a := range agents {
		a := a.(map[string]any)
		order = append(order, fmt.Sprintf("%s:%v/%v", a["employee_id"], a["rank"], a["team_rank"]))
	}
	// Equal scores share a rank (1, 1, 3); ties by employee id.
	if want := []string{"agent1:1/1", "agent2:1/1", "manager1:3/2", "agent3:4/2"}; !slices.Equal(order, want) {
		t.Errorf("ranking %v, want %v", order, want)
	}
	teams := byKey(r.body["teams"], "team_id")
	// team-b: (92.0 + 71.5) / 2 = 81.75 -> 81.8 half-up.
	if ta, tb := teams["team-a"], teams["team-b"]; ta["average"] != 86.0 || ta["rank"] != 1.0 || ta["members"] != 2.0 || ta["band"] != "good" ||
		tb["average"] != 81.8 || tb["rank"] != 2.0 {
		t.Errorf("teams: %v", r.body["teams"])
	}
	trend := r.body["trend"].(map[string]any)
	months := strs(trend["months"])
	if len(months) != 12 || months[11] != month || months[10] != prev || slices.Contains(months, old) {
		t.Errorf("trend months: %v", months)
	}
	series := byKey(trend["agents"], "employee_id")
	want := make([]any, 12)
	want[10], want[11] = 70.0, 92.0
	if got := points(series["agent1"], "score"); !slices.Equal(got, want) {
		t.Errorf("agent1's trend: %v, want %v", got, want)
	}
	if got := points(byKey(trend["teams"], "team_id")["team-b"], "average"); got[10] != 65.3 || got[11] != 81.8 || got[0] != nil {
		t.Errorf("team-b's trend: %v", got)
	}

	// R7: a manager sees their team's results and ranks among everyone; an
	// agent their own, no team.
	mr := s.must(s.call("manager1", "GET", "/api/v1/reports/csi?month="+month, nil), 200, "manager1")
	if got := sorted(mapKeys(byKey(mr.body["agents"], "employee_id"))); !slices.Equal(got, []string{"agent1", "manager1"}) {
		t.Errorf("manager1 sees %v", got)
	}
	if got := mapKeys(byKey(mr.body["teams"], "team_id")); !slices.Equal(got, []string{"team-a"}) || mr.body["teams_ranked"] != 2.0 {
		t.Errorf("manager1 sees teams %v (%v ranked)", got, mr.body["teams_ranked"])
	}
	if got := sorted(mapKeys(byKey(mr.body["trend"].(map[string]any)["agents"], "employee_id"))); !slices.Equal(got, []string{"agent1", "manager1"}) {
		t.Errorf("manager1's trend: %v", got)
	}
	ar := s.must(s.call("agent2", "GET", "/api/v1/reports/csi?month="+month, nil), 200, "agent2")
	if a := byKey(ar.body["agents"], "employee_id"); len(a) != 1 || a["agent2"]["rank"] != 1.0 || len(ar.body["teams"].([]any)) != 0 ||
		len(ar.body["trend"].(map[string]any)["teams"].([]any)) != 0 {
		t.Errorf("agent2 sees: %s", ar.raw)
	}
	if got := mapKeys(byKey(s.call("officer1", "GET", "/api/v1/reports/csi?month="+month, nil).body["agents"], "employee_id")); len(got) != 4 {
		t.Errorf("officer1 sees %v", got)
	}
	if r := s.call("committee1", "GET", "/api/v1/reports/csi?month="+month, nil); r.status != http.StatusForbidden {
		t.Errorf("committee1: %d", r.status)
	}
	// A month without results: empty, not an error.
	if e := s.must(s.call("hr1", "GET", "/api/v1/reports/csi?month="+monthStart(-6).Format("2006-01"), nil), 200, "empty month"); len(e.body["agents"].([]any)) != 0 || e.body["ranked"] != 0.0 {
		t.Errorf("empty month: %s", e.raw)
	}
	s.badInput("hr1", "/api/v1/reports/csi", "month")
	s.badInput("hr1", "/api/v1/reports/csi?month=26-03", "month")
}

// R7, R6: appeals opened through the API against a real month's results,
// listed per caller (GET /appeals: HR's desk of open stage-2 appeals with
// their deadline), then counted by the appeal outcomes report together
// with a historic month.
func TestR7_AppealsListAndReport(t *testing.T) {
	s := startStack(t)
	last := monthStart(-1)
	month := last.Format("2006-01")
	// One complaint each, received on the 5th and missing its contact clock:
	// both agents get a result (timeliness only, R4.0).
	for no, agent := range map[string]string{"A-1": "agent1", "A-2": "agent2"} {
		c := complaintBody(no)
		c["assignee_id"], c["received_at"] = agent, last.AddDate(0, 0, 4).Add(10*time.Hour).Format(time.RFC3339)
		s.must(s.call("officer1", "POST", "/api/v1/complaints", c), 201, no)
	}
	s.must(s.call("hr1", "POST", "/api/v1/assessment-cycles", map[string]any{"month": month}), 201, "cycle")
	s.poll("both results", 20*time.Second, func() bool {
		return len(s.call("hr1", "GET", "/api/v1/assessments?month="+month, nil).items()) == 2
	})
	// Within the publication window (e2e: seconds).
	a1 := s.must(s.call("agent1", "POST", "/api/v1/assessments/"+month+"_agent1/appeals", map[string]any{"reason": "the customer asked for a later call"}), 201, "agent1 appeals").body["id"].(string)
	a2 := s.must(s.call("agent2", "POST", "/api/v1/assessments/"+month+"_agent2/appeals", map[string]any{"reason": "wrong complaint"}), 201, "agent2 appeals").body["id"].(string)
	s.must(s.call("manager1", "POST", "/api/v1/appeals/"+a1+"/escalate", map[string]any{"reason": "needs HR"}), 200, "escalate")
	s.must(s.call("agent2", "POST", "/api/v1/appeals/"+a2+"/accept-explanation", nil), 200, "withdraw")

	var desk []map[string]any
	s.poll("HR's desk", 10*time.Second, func() bool {
		desk = s.must(s.call("hr1", "GET", "/api/v1/appeals?stage=2&status=open", nil), 200, "desk").items()
		return len(desk) == 1
	})
	if d := desk[0]; d["id"] != a1 || d["appellant_id"] != "agent1" || d["team_id"] != "team-a" || d["month"] != month ||
		d["assessment_id"] != month+"_agent1" || d["due_at"] == nil || d["remaining_seconds"].(float64) <= 0 || d["decided_at"] != nil ||
		d["original_score"] != 0.0 || d["corrected_score"] != nil {
		t.Errorf("HR's desk: %v", d)
	}
	s.poll("the withdrawal in the read model", 10*time.Second, func() bool {
		return len(s.call("hr1", "GET", "/api/v1/appeals?status=withdrawn", nil).items()) == 1
	})
	// R7: whose appeals each caller sees.
	for user, want := range map[string][]string{
		"hr1": {a1, a2}, "officer1": {a1, a2}, "head1": {a1, a2}, "manager1": {a1},
		"agent1": {a1}, "agent2": {a2}, "committee1": {},
	} {
		if got := sorted(column(s.must(s.call(user, "GET", "/api/v1/appeals", nil), 200, user).items(), "id")); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s sees %v, want %v", user, got, sorted(want))
		}
	}
	for q, want := range map[string][]string{
		"?employee_id=agent2":                        {a2},
		"?month=" + month + "&stage=1":               {a2},
		"?month=" + monthStart(-2).Format("2006-01"): {},
		"?status=open":                               {a1},
	} {
		if got := sorted(column(s.must(s.call("hr1", "GET", "/api/v1/appeals"+q, nil), 200, q).items(), "id")); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	p1 := s.must(s.call("hr1", "GET", "/api/v1/appeals?limit=1", nil), 200, "page 1")
	next, _ := p1.body["next"].(string)
	p2 := s.must(s.call("hr1", "GET", "/api/v1/appeals?limit=1&next="+url.QueryEscape(next), nil), 200, "page 2")
	if next == "" || len(p1.items()) != 1 || len(p2.items()) != 1 || p1.items()[0]["id"] == p2.items()[0]["id"] {
		t.Errorf("pages: %s then %s", p1.raw, p2.raw)
	}
	for q, field := range map[string]string{"?stage=3": "stage", "?stage=two": "stage", "?status=pending": "status",
		"?month=2026-00": "month", "?next=%7B": "next", "?limit=-1": "limit"} {
		s.badInput("hr1", "/api/v1/appeals"+q, field)
	}

	// HR upholds agent1's appeal (R6).
	s.must(s.call("hr1", "POST", "/api/v1/appeals/"+a1+"/decision", map[string]any{"outcome": "upheld", "corrected_score": 40.0, "reason": "the call was at the customer's request"}), 200, "decision")
	s.poll("the decision in the read model", 10*time.Second, func() bool {
		got := s.call("hr1", "GET", "/api/v1/appeals?status=upheld", nil).items()
		return len(got) == 1 && got[0]["corrected_score"] == 40.0 && got[0]["decided_by"] == "hr1"
	})
	// The CSI report shows the corrected result (R6).
	if a := byKey(s.call("hr1", "GET", "/api/v1/reports/csi?month="+month, nil).body["agents"], "employee_id")["agent1"]; a == nil || a["score"] != 40.0 {
		t.Errorf("agent1 in the CSI report after the correction: %v", a)
	}

	// A historic month: one rejected after its stage-2 deadline was missed
	// and escalated, one upheld, one withdrawn.
	hm := monthStart(-4)
	hist := hm.Format("2006-01")
	opened := hm.AddDate(0, 1, 1)
	for _, a := range []struct {
		employee, team, status string
		stage                  int
		escalated              bool
	}{
		{"agent1", "team-a", "rejected", 2, true},
		{"manager1", "team-a", "upheld", 2, false},
		{"agent2", "team-b", "withdrawn", 1, false},
	} {
		id := s.seedResult(hist, a.employee, a.team, "60.0", "poor")
		var escalated, corrected any
		if a.escalated {
			escalated = opened.AddDate(0, 0, 9)
		}
		if a.status == "upheld" {
			corrected = "70.0"
		}
		s.exec(`INSERT INTO appeals (id, assessment_id, month, appellant_id, stage, status, due_at, escalated_at, opened_at,
		          decided_at, decided_by, outcome_reason, original_score, corrected_score, last_seq)
		        VALUES ('appeal_' || $1, $1, $2, $3, $4, $5, $6, $7, $6, $8, 'hr1', 'reasons', 60.0, $9::numeric, 5)`,
			id, hist, a.employee, a.stage, a.status, opened, escalated, opened.AddDate(0, 0, 10), corrected)
	}
	from, to := hist, month
	rep := s.must(s.call("hr1", "GET", "/api/v1/reports/appeals?from="+from+"&to="+to, nil), 200, "appeals report")
	months := byKey(rep.body["months"], "month")
	if len(months) != 4 || rep.body["from"] != from || rep.body["to"] != to {
		t.Fatalf("months: %s", rep.raw)
	}
	outcome := func(m map[string]any) string {
		return fmt.Sprintf("opened %v withdrawn %v upheld %v rejected %v open %v stage2 %v missed %v",
			m["opened"], m["withdrawn"], m["upheld"], m["rejected"], m["open"], m["stage2"], m["deadline_missed"])
	}
	for m, want := range map[string]string{
		hist:                             "opened 3 withdrawn 1 upheld 1 rejected 1 open 0 stage2 2 missed 1",
		month:                            "opened 2 withdrawn 1 upheld 1 rejected 0 open 0 stage2 1 missed 0",
		monthStart(-2).Format("2006-01"): "opened 0 withdrawn 0 upheld 0 rejected 0 open 0 stage2 0 missed 0",
	} {
		if got := outcome(months[m]); got != want {
			t.Errorf("%s: %s, want %s", m, got, want)
		}
	}
	if got := outcome(rep.body["total"].(map[string]any)); got != "opened 5 withdrawn 2 upheld 2 rejected 1 open 0 stage2 3 missed 1" {
		t.Errorf("total: %s", got)
	}
	// R7: a manager counts their teams' appeals; agents may not read it.
	mrep := s.must(s.call("manager1", "GET", "/api/v1/reports/appeals?from="+from+"&to="+to, nil), 200, "manager1's report")
	if got := outcome(mrep.body["total"].(map[string]any)); got != "opened 3 withdrawn 0 upheld 2 rejected 1 open 0 stage2 3 missed 1" {
		t.Errorf("manager1's total: %s", got)
	}
	for _, user := range []string{"agent1", "committee1"} {
		if r := s.call(user, "GET", "/api/v1/reports/appeals?from="+from+"&to="+to, nil); r.status != http.StatusForbidden {
			t.Errorf("%s: %d", user, r.status)
		}
	}
	for q, field := range map[string]string{
		"?to=" + to:                   "from",
		"?from=" + from:               "to",
		"?from=" + to + "&to=" + from: "to",
		"?from=2020-01&to=2023-01":    "to", // 37 months
		"?from=2026-1&to=" + to:       "from",
	} {
		s.badInput("hr1", "/api/v1/reports/appeals"+q, field)
	}
}

// R7, R5.3: pending reward approvals with their step, who may act and
// their age, the longest-waiting first, and a count per step; scoped (R7).
func TestR7_ApprovalsReport(t *testing.T) {
	s := startStack(t)
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("R-1", "agent1", "cash", 100000)), 201, "R-1")
	s.must(s.call("head1", "POST", "/api/v1/rewards", rewardBody("R-2", "agent2", "honour", 0)), 201, "R-2") // the head nominates: the committee reviews (R5.3)
	s.must(s.call("hr1", "POST", "/api/v1/rewards", rewardBody("R-3", "agent1", "training", 0)), 201, "R-3")
	s.must(s.call("head1", "POST", "/api/v1/rewards/R-1/approve", map[string]any{"comment": "yes"}), 200, "R-1 to hr")
	var r response
	s.poll("three pending approvals", 10*time.Second, func() bool {
		r = s.must(s.call("hr1", "GET", "/api/v1/reports/approvals", nil), 200, "report")
		steps := byKey(r.body["steps"], "step")
		return len(r.items()) == 3 && steps["hr"] != nil
	})
	// R-3's step has waited 10 days and is past its deadline (a historic
	// row; the workflow keeps its own timers).
	s.exec(`UPDATE rewards SET step_since = now() - interval '10 days', due_at = now() - interval '5 days' WHERE nomination_no = 'R-3'`)
	// R-1's hr step began after R-2's step, but instants are whole seconds
	// (issue 13): within one second they would tie. Set the order apart.
	s.exec(`UPDATE rewards SET step_since = step_since - interval '1 minute' WHERE nomination_no = 'R-2'`)
	r = s.must(s.call("hr1", "GET", "/api/v1/reports/approvals", nil), 200, "report")
	items := r.items()
	if got := column(items, "nomination_no"); !slices.Equal(got, []string{"R-3", "R-2", "R-1"}) {
		t.Fatalf("order %v, want R-3 (10 days), R-2, R-1 (its hr step began last)", got)
	}
	r3, r2, r1 := items[0], items[1], items[2]
	if r3["step"] != "manager" || r3["overdue"] != true || r3["age_seconds"].(float64) < 10*86400-60 || !slices.Equal(strs(r3["awaiting"]), []string{"head1"}) ||
		r3["team_id"] != "team-a" || r3["nominator_id"] != "hr1" || r3["kind"] != "training" {
		t.Errorf("R-3: %v", r3)
	}
	if r2["step"] != "manager" || !slices.Equal(strs(r2["awaiting"]), []string{"committee1"}) || r2["overdue"] != false || r2["team_id"] != "team-b" {
		t.Errorf("R-2: %v", r2)
	}
	if r1["step"] != "hr" || !slices.Equal(strs(r1["awaiting"]), []string{"hr1"}) || r1["amount_fen"] != 100000.0 || r1["due_at"] == nil ||
		r1["age_seconds"].(float64) < 0 || r1["age_seconds"].(float64) > 600 {
		t.Errorf("R-1: %v", r1)
	}
	steps := r.body["steps"].([]any)
	if len(steps) != 2 {
		t.Fatalf("steps: %v", steps)
	}
	mgr, hr := steps[0].(map[string]any), steps[1].(map[string]any)
	if mgr["step"] != "manager" || mgr["pending"] != 2.0 || mgr["overdue"] != 1.0 || mgr["oldest_age_seconds"].(float64) < 10*86400-60 ||
		hr["step"] != "hr" || hr["pending"] != 1.0 || hr["overdue"] != 0.0 {
		t.Errorf("steps: %v", steps)
	}
	if got := column(s.must(s.call("hr1", "GET", "/api/v1/reports/approvals?step=hr", nil), 200, "hr step").items(), "nomination_no"); !slices.Equal(got, []string{"R-1"}) {
		t.Errorf("?step=hr: %v", got)
	}
	// Pages: the counts are of all of them on every page.
	p1 := s.must(s.call("hr1", "GET", "/api/v1/reports/approvals?limit=2", nil), 200, "page 1")
	next, _ := p1.body["next"].(string)
	p2 := s.must(s.call("hr1", "GET", "/api/v1/reports/approvals?limit=2&next="+url.QueryEscape(next), nil), 200, "page 2")
	if got := append(column(p1.items(), "nomination_no"), column(p2.items(), "nomination_no")...); !slices.Equal(got, []string{"R-3", "R-2", "R-1"}) ||
		p2.body["next"] != nil || len(p2.body["steps"].([]any)) != 2 {
		t.Errorf("pages: %s then %s", p1.raw, p2.raw)
	}

	// R7: a manager sees the rewards of their teams' people; agents and the
	// committee may not read the report.
	for user, want := range map[string][]string{"officer1": {"R-3", "R-2", "R-1"}, "head1": {"R-3", "R-2", "R-1"}, "manager1": {"R-3", "R-1"}} {
		if got := column(s.must(s.call(user, "GET", "/api/v1/reports/approvals", nil), 200, user).items(), "nomination_no"); !slices.Equal(got, want) {
			t.Errorf("%s sees %v, want %v", user, got, want)
		}
	}
	if m := byKey(s.call("manager1", "GET", "/api/v1/reports/approvals", nil).body["steps"], "step"); m["manager"]["pending"] != 1.0 || m["hr"]["pending"] != 1.0 {
		t.Errorf("manager1's counts: %v", m)
	}
	for _, user := range []string{"agent1", "committee1"} {
		if r := s.call(user, "GET", "/api/v1/reports/approvals", nil); r.status != http.StatusForbidden {
			t.Errorf("%s: %d", user, r.status)
		}
	}
	for q, field := range map[string]string{"?step=boss": "step", "?limit=0": "limit", "?next=xyz": "next"} {
		s.badInput("hr1", "/api/v1/reports/approvals"+q, field)
	}
}
