package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
)

func rewardBody(no, nominee, kind string, amountFen int64) map[string]any {
	b := map[string]any{"nomination_no": no, "nominee_id": nominee, "kind": kind, "reason": "fixed 40 washers in a week"}
	if amountFen != 0 {
		b["amount_fen"] = amountFen
	}
	return b
}

// must fails the test unless r has the status.
func (s *stack) must(r response, status int, what string) response {
	s.t.Helper()
	if r.status != status {
		s.t.Fatalf("%s: %d, want %d: %s", what, r.status, status, r.raw)
	}
	return r
}

// strs reads a JSON array of strings.
func strs(v any) []string {
	a, _ := v.([]any)
	out := []string{}
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// inbox is the nomination numbers user's GET /rewards lists (query: extra filters).
func (s *stack) inbox(user, query string) []string {
	s.t.Helper()
	r := s.must(s.call(user, "GET", "/api/v1/rewards"+query, nil), 200, user+"'s inbox")
	var out []string
	items, _ := r.body["items"].([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		out = append(out, m["nomination_no"].(string))
	}
	return out
}

// waitInbox waits until user's inbox (the read model) is exactly want.
func (s *stack) waitInbox(user, query string, want ...string) {
	s.t.Helper()
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got = s.inbox(user, query); slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s's inbox%s = %v, want %v", user, query, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// addUser inserts a user with roles (and a team, or "") and issues a token.
func (s *stack) addUser(id, team string, roles ...auth.Role) {
	s.t.Helper()
	ctx := context.Background()
	q := db.New(s.pool)
	var teamID *string
	if team != "" {
		teamID = &team
	}
	if err := q.UpsertUser(ctx, db.UpsertUserParams{ID: id, Name: id, TeamID: teamID}); err != nil {
		s.t.Fatal(err)
	}
	for _, r := range roles {
		if err := q.AddUserRole(ctx, db.AddUserRoleParams{UserID: id, Role: string(r)}); err != nil {
			s.t.Fatal(err)
		}
	}
	tok, err := auth.NewTokenStore(q).Issue(ctx, id, "e2e")
	if err != nil {
		s.t.Fatal(err)
	}
	s.tokens[id] = tok
}

// R5.3 end to end: manager1 nominates agent1 for a cash bonus of 1,000 CNY
// (below the committee's threshold); the department head approves the
// manager step, HR approves, HR pays out exactly once. The inbox lists
// exactly what each approver may act on at each moment.
func TestR5_3_CashRewardApprovedAndPaidOnce(t *testing.T) {
	s := startStack(t)
	body := rewardBody("R-1", "agent1", "cash", 100000)
	r := s.must(s.call("manager1", "POST", "/api/v1/rewards", body), 201, "nominate")
	if r.body["status"] != "pending" || r.body["step"] != "manager" || !slices.Equal(strs(r.body["awaiting"]), []string{"head1"}) ||
		r.body["nominator_id"] != "manager1" || r.body["amount_fen"] != 100000.0 || r.body["due_at"] == nil {
		t.Fatalf("nominated: %s", r.raw)
	}
	if due, _ := time.Parse(time.RFC3339, r.body["due_at"].(string)); !strings.HasSuffix(r.body["due_at"].(string), "+08:00") || due.IsZero() {
		t.Errorf("due_at %v: not in the calendar's zone", r.body["due_at"])
	}
	// api.md: the same POST again is 200, the same number with another body 409.
	s.must(s.call("manager1", "POST", "/api/v1/rewards", body), 200, "same nomination again")
	if r := s.call("manager1", "POST", "/api/v1/rewards", rewardBody("R-1", "agent1", "cash", 200000)); r.status != 409 || r.code() != "reward_exists" {
		t.Errorf("same number, other body: %d %s", r.status, r.raw)
	}

	// At the manager step only the department head has it in the inbox
	// (the nominator follows it too); HR and the committee do not.
	s.waitInbox("head1", "", "R-1")
	s.waitInbox("head1", "?awaiting=manager", "R-1")
	s.waitInbox("head1", "?awaiting=hr")
	s.waitInbox("hr1", "")
	s.waitInbox("committee1", "")
	s.waitInbox("manager1", "", "R-1")

	// R7: who may read it.
	for user, want := range map[string]int{"agent1": 200, "manager1": 200, "head1": 200, "hr1": 200, "agent2": 403, "officer1": 403, "committee1": 403} {
		if got := s.call(user, "GET", "/api/v1/rewards/R-1", nil).status; got != want {
			t.Errorf("GET as %s: %d, want %d", user, got, want)
		}
	}
	// Only who may act now: not the nominee, the nominator, HR or a stranger.
	for _, user := range []string{"agent1", "manager1", "hr1", "agent2", "committee1"} {
		if got := s.call(user, "POST", "/api/v1/rewards/R-1/approve", map[string]any{}); got.status != 403 {
			t.Errorf("approve as %s at the manager step: %d %s", user, got.status, got.raw)
		}
	}
	if r := s.call("head1", "POST", "/api/v1/rewards/R-1/approve", map[string]any{"actor": "hr1"}); r.status != 400 || r.fields()["actor"] == nil {
		t.Errorf("a client-sent actor: %d %s", r.status, r.raw)
	}
	if r := s.call("head1", "POST", "/api/v1/rewards/R-1/approve", map[string]any{"actor_roles": []string{"hr"}}); r.status != 400 {
		t.Errorf("client-sent actor_roles: %d %s", r.status, r.raw)
	}
	if r := s.call("head1", "POST", "/api/v1/rewards/R-1/reject", map[string]any{}); r.status != 400 || r.fields()["comment"] == nil {
		t.Errorf("reject without comment: %d %s", r.status, r.raw)
	}

	r = s.must(s.call("head1", "POST", "/api/v1/rewards/R-1/approve", map[string]any{"comment": "well deserved"}), 200, "head approves")
	if r.body["step"] != "hr" || r.body["status"] != "pending" || !slices.Equal(strs(r.body["awaiting"]), []string{"hr1"}) {
		t.Fatalf("after the manager step: %s", r.raw)
	}
	// R5.3 four eyes: the head approved a step; they cannot approve another.
	if got := s.call("head1", "POST", "/api/v1/rewards/R-1/approve", map[string]any{}); got.status != 403 {
		t.Errorf("head1 approving the hr step too: %d %s", got.status, got.raw)
	}
	s.waitInbox("head1", "")
	s.waitInbox("hr1", "", "R-1")
	s.waitInbox("hr1", "?awaiting=hr&status=pending", "R-1")
	s.waitInbox("committee1", "")

	r = s.must(s.call("hr1", "POST", "/api/v1/rewards/R-1/approve", nil), 200, "hr approves")
	if r.body["status"] != "approved" || r.body["step"] != "payout" || r.body["needs_committee"] != false {
		t.Fatalf("after the hr step: %s", r.raw)
	}
	if approvals, _ := r.body["approvals"].([]any); len(approvals) != 2 {
		t.Errorf("approvals: %v", r.body["approvals"])
	}
	s.waitInbox("committee1", "") // never, for a small cash reward

	// Payout: the reference is required, the right one for the kind.
	if r := s.call("hr1", "POST", "/api/v1/rewards/R-1/payout", map[string]any{}); r.status != 400 {
		t.Errorf("payout without a reference: %d %s", r.status, r.raw)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards/R-1/payout", map[string]any{"payment_ref": "PAY-1"}); r.status != 403 {
		t.Errorf("payout by a manager: %d %s", r.status, r.raw)
	}
	r = s.must(s.call("hr1", "POST", "/api/v1/rewards/R-1/payout", map[string]any{"payment_ref": "PAY-2026-0001"}), 200, "payout")
	if r.body["status"] != "paid" || r.body["step"] != nil || r.body["payment_ref"] != "PAY-2026-0001" {
		t.Fatalf("paid: %s", r.raw)
	}
	// R5.3: recorded exactly once; a second payout is 409 and changes nothing.
	if r := s.call("hr1", "POST", "/api/v1/rewards/R-1/payout", map[string]any{"payment_ref": "PAY-2026-0002"}); r.status != 409 {
		t.Errorf("second payout: %d %s", r.status, r.raw)
	}
	var n int
	var ref string
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*), min(reference) FROM payouts WHERE nomination_no = 'R-1'`).Scan(&n, &ref); err != nil {
		t.Fatal(err)
	}
	if n != 1 || ref != "PAY-2026-0001" {
		t.Errorf("%d payout rows, reference %q", n, ref)
	}
	// The workflow ends; commands on it are then 409 (not 404), and its GET answers as before.
	s.poll("the paid reward's workflow to end", 10*time.Second, func() bool {
		d, err := s.temporal.DescribeWorkflowExecution(context.Background(), "reward:R-1", "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	if g := s.call("agent1", "GET", "/api/v1/rewards/R-1", nil); g.status != 200 || g.body["status"] != "paid" || g.body["payment_ref"] != "PAY-2026-0001" {
		t.Errorf("GET of the ended reward: %d %s", g.status, g.raw)
	}
	if r := s.call("hr1", "POST", "/api/v1/rewards/R-1/payout", map[string]any{"payment_ref": "PAY-2026-0003"}); r.status != 409 {
		t.Errorf("payout after the end: %d %s", r.status, r.raw)
	}
	if r := s.call("head1", "POST", "/api/v1/rewards/R-1/approve", nil); r.status != 409 {
		t.Errorf("approving an ended reward (a party): %d %s", r.status, r.raw)
	}
	if r := s.call("agent2", "POST", "/api/v1/rewards/R-1/approve", nil); r.status != 403 {
		t.Errorf("approving an ended reward (a stranger): %d %s", r.status, r.raw)
	}
	s.waitInbox("hr1", "")
	s.waitInbox("hr1", "?all=true", "R-1")
	s.waitInbox("manager1", "?status=paid", "R-1")

	// The business metrics count the payout once.
	m := s.call("", "GET", "/metrics", nil)
	if !strings.Contains(string(m.raw), "reward_paid_amount_fen_total 100000\n") ||
		!strings.Contains(string(m.raw), `rewards_total{kind="cash",outcome="paid"} 1`) {
		t.Errorf("reward metrics missing from /metrics")
	}
}

// R5.3 four eyes: an HR user who nominated a reward cannot approve its HR
// step; another HR user can. The computed awaiting leaves the nominator out.
func TestR5_3_HRNominatorCannotApproveHRStep(t *testing.T) {
	s := startStack(t)
	s.addUser("hr2", "", auth.HR)
	s.must(s.call("hr2", "POST", "/api/v1/rewards", rewardBody("R-2", "agent1", "honour", 0)), 201, "hr2 nominates")
	s.must(s.call("head1", "POST", "/api/v1/rewards/R-2/approve", nil), 200, "head approves")
	r := s.must(s.call("hr2", "GET", "/api/v1/rewards/R-2", nil), 200, "nominator reads")
	if r.body["step"] != "hr" || !slices.Equal(strs(r.body["awaiting"]), []string{"hr1"}) || !slices.Contains(strs(r.body["excluded"]), "hr2") {
		t.Fatalf("at the hr step: %s", r.raw)
	}
	if r := s.call("hr2", "POST", "/api/v1/rewards/R-2/approve", nil); r.status != http.StatusForbidden && r.status != http.StatusConflict {
		t.Fatalf("the nominating HR user approved the HR step: %d %s", r.status, r.raw)
	}
	// hr1 may act on it; hr2 only follows their nomination.
	s.waitInbox("hr1", "", "R-2")
	s.waitInbox("hr2", "?awaiting=hr", "R-2")
	r = s.must(s.call("hr1", "POST", "/api/v1/rewards/R-2/approve", nil), 200, "hr1 approves")
	if r.body["status"] != "approved" || r.body["step"] != "payout" {
		t.Fatalf("after hr1: %s", r.raw)
	}
	// An honour is issued, not paid: issued_ref, not payment_ref.
	if r := s.call("hr2", "POST", "/api/v1/rewards/R-2/payout", map[string]any{"payment_ref": "PAY-1"}); r.status != 400 {
		t.Errorf("payment_ref for an honour: %d %s", r.status, r.raw)
	}
	r = s.must(s.call("hr2", "POST", "/api/v1/rewards/R-2/payout", map[string]any{"issued_ref": "CERT-7"}), 200, "issue")
	if r.body["status"] != "paid" || r.body["issued_ref"] != "CERT-7" {
		t.Errorf("issued: %s", r.raw)
	}
}

// R5.2, R5.3, R1: who may nominate whom, bad input, and a nomination
// returned, resubmitted and withdrawn; where the department head nominates,
// the committee takes the manager step.
func TestR5_NominationRulesReturnResubmitWithdraw(t *testing.T) {
	s := startStack(t)
	for _, c := range []struct {
		user   string
		body   map[string]any
		status int
		field  string
	}{
		{"agent1", rewardBody("X-1", "agent2", "honour", 0), 403, ""},               // agents do not nominate (R1)
		{"manager1", rewardBody("X-2", "agent2", "honour", 0), 403, ""},             // not manager1's team
		{"manager1", rewardBody("X-3", "manager1", "honour", 0), 400, "nominee_id"}, // nobody nominates themselves
		{"hr1", rewardBody("X-4", "nobody", "honour", 0), 400, "nominee_id"},
		{"hr1", rewardBody("X-5", "agent1", "honour", 500), 400, "amount_fen"}, // only cash has an amount (R5.1)
		{"hr1", rewardBody("X-6", "agent1", "cash", 0), 400, "amount_fen"},
		{"hr1", rewardBody("X-7", "agent1", "car", 0), 400, "kind"},
		{"hr1", rewardBody("bad no", "agent1", "honour", 0), 400, "nomination_no"},
		{"hr1", map[string]any{"nomination_no": "X-8", "nominee_id": "agent1", "kind": "honour", "reason": "r", "assessment_id": "2026-01_agent1"}, 400, "assessment_id"},
		{"hr1", map[string]any{"nomination_no": "X-9", "nominee_id": "agent1", "kind": "honour", "reason": "r", "nominator_id": "hr1"}, 400, "nominator_id"},
	} {
		r := s.call(c.user, "POST", "/api/v1/rewards", c.body)
		if r.status != c.status || (c.field != "" && r.fields()[c.field] == nil) {
			t.Errorf("%s nominating %v: %d %s", c.user, c.body, r.status, r.raw)
		}
	}
	if r := s.call("manager1", "GET", "/api/v1/rewards?all=true", nil); r.status != 403 {
		t.Errorf("all=true by a manager: %d", r.status)
	}
	if r := s.call("agent1", "GET", "/api/v1/rewards", nil); r.status != 403 {
		t.Errorf("the inbox for an agent: %d", r.status)
	}
	if r := s.call("hr1", "GET", "/api/v1/rewards?awaiting=boss", nil); r.status != 400 || r.fields()["awaiting"] == nil {
		t.Errorf("awaiting=boss: %d %s", r.status, r.raw)
	}
	if r := s.call("hr1", "GET", "/api/v1/rewards/NOPE", nil); r.status != 404 {
		t.Errorf("unknown reward: %d", r.status)
	}

	// R5.3: the department head nominates agent2 (team-b, which they head):
	// the committee reviews the manager step instead, and it is in the
	// committee's inbox.
	r := s.must(s.call("head1", "POST", "/api/v1/rewards", rewardBody("R-3", "agent2", "training", 0)), 201, "head nominates")
	if r.body["step"] != "manager" || !slices.Equal(strs(r.body["awaiting"]), []string{"committee1"}) {
		t.Fatalf("head's nomination: %s", r.raw)
	}
	s.waitInbox("committee1", "", "R-3")
	s.waitInbox("head1", "", "R-3") // as its nominator

	// manager1 nominates agent1; the head returns it; manager1 changes the
	// amount and resubmits; then withdraws it.
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("R-4", "agent1", "cash", 50000)), 201, "nominate R-4")
	if r := s.call("head1", "POST", "/api/v1/rewards/R-4/return", map[string]any{"comment": " "}); r.status != 400 {
		t.Errorf("return without comment: %d %s", r.status, r.raw)
	}
	r = s.must(s.call("head1", "POST", "/api/v1/rewards/R-4/return", map[string]any{"comment": "say what was fixed"}), 200, "return")
	if r.body["status"] != "returned" || r.body["step"] != nil || !slices.Equal(strs(r.body["awaiting"]), []string{"manager1"}) {
		t.Fatalf("returned: %s", r.raw)
	}
	s.waitInbox("head1", "?status=returned")
	s.waitInbox("manager1", "?status=returned", "R-4")
	if r := s.call("head1", "POST", "/api/v1/rewards/R-4/resubmit", map[string]any{}); r.status != 403 {
		t.Errorf("resubmit by the head: %d", r.status)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards/R-4/resubmit", map[string]any{"kind": "honour"}); r.status != 400 {
		t.Errorf("resubmit as honour with the cash amount: %d %s", r.status, r.raw)
	}
	r = s.must(s.call("manager1", "POST", "/api/v1/rewards/R-4/resubmit", map[string]any{"amount_fen": 80000, "comment": "40 washers"}), 200, "resubmit")
	if r.body["status"] != "pending" || r.body["step"] != "manager" || r.body["round"] != 2.0 || r.body["amount_fen"] != 80000.0 {
		t.Fatalf("resubmitted: %s", r.raw)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards/R-4/withdraw", map[string]any{}); r.status != 400 {
		t.Errorf("withdraw without reason: %d", r.status)
	}
	r = s.must(s.call("manager1", "POST", "/api/v1/rewards/R-4/withdraw", map[string]any{"reason": "budget"}), 200, "withdraw")
	if r.body["status"] != "withdrawn" || r.body["step"] != nil {
		t.Fatalf("withdrawn: %s", r.raw)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards/R-4/withdraw", map[string]any{"reason": "again"}); r.status != 409 {
		t.Errorf("withdrawing twice: %d %s", r.status, r.raw)
	}
	s.waitInbox("head1", "?awaiting=manager", "R-3")

	// Pagination over HR's full list.
	s.waitInbox("hr1", "?all=true", "R-3", "R-4")
	p := s.must(s.call("hr1", "GET", "/api/v1/rewards?all=true&limit=1", nil), 200, "page 1")
	next, _ := p.body["next"].(string)
	if items, _ := p.body["items"].([]any); len(items) != 1 || next == "" {
		t.Fatalf("page 1: %s", p.raw)
	}
	p = s.must(s.call("hr1", "GET", "/api/v1/rewards?all=true&limit=1&next="+next, nil), 200, "page 2")
	if items, _ := p.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["nomination_no"] != "R-4" || p.body["next"] != nil {
		t.Errorf("page 2: %s", p.raw)
	}
}

// R7: once Temporal no longer keeps a reward's ended workflow, its GET
// answers from the read model (status, approvals, payout, history), and
// commands on it are 409.
func TestR7_ArchivedRewardFromReadModel(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO rewards (nomination_no, nominee_id, nominator_id, kind, amount_fen, reason, created_at, status, round,
			approvals, last_seq) VALUES ('R-OLD', 'agent1', 'manager1', 'cash', 30000, 'old', now() - interval '400 days', 'paid', 1,
			'[{"step":"manager","by":"head1","at":"2025-01-02T10:00:00+08:00","round":1},{"step":"hr","by":"hr1","at":"2025-01-03T10:00:00+08:00","round":1}]', 3)`,
		`INSERT INTO reward_events (nomination_no, seq, type, actor_id, at, reason) VALUES
			('R-OLD', 1, 'nominated', 'manager1', now() - interval '400 days', 'old'),
			('R-OLD', 2, 'approved:manager', 'head1', now() - interval '399 days', ''),
			('R-OLD', 3, 'paid', 'hr1', now() - interval '390 days', 'PAY-OLD')`,
		`INSERT INTO payouts (nomination_no, nominee_id, kind, amount_fen, reference, recorded_by, at)
			VALUES ('R-OLD', 'agent1', 'cash', 30000, 'PAY-OLD', 'hr1', now() - interval '390 days')`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	r := s.must(s.call("agent1", "GET", "/api/v1/rewards/R-OLD", nil), 200, "archived GET")
	if r.body["status"] != "paid" || r.body["step"] != nil || r.body["payment_ref"] != "PAY-OLD" ||
		len(r.body["events"].([]any)) != 3 || len(r.body["approvals"].([]any)) != 2 {
		t.Fatalf("archived reward: %s", r.raw)
	}
	if r := s.call("head1", "GET", "/api/v1/rewards/R-OLD", nil); r.status != 200 { // an approver
		t.Errorf("GET by its approver: %d", r.status)
	}
	if r := s.call("hr1", "POST", "/api/v1/rewards/R-OLD/payout", map[string]any{"payment_ref": "PAY-NEW"}); r.status != 409 {
		t.Errorf("payout of an archived reward: %d %s", r.status, r.raw)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards/R-OLD/withdraw", map[string]any{"reason": "r"}); r.status != 409 {
		t.Errorf("withdrawing an archived reward: %d %s", r.status, r.raw)
	}
	if r := s.call("manager1", "POST", "/api/v1/rewards", rewardBody("R-OLD", "agent1", "cash", 30000)); r.status != 409 {
		t.Errorf("nominating under an archived number: %d %s", r.status, r.raw)
	}
}
