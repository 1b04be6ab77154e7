package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The console of issue 10 in a real browser: each role's view, live
// updates, and the people's actions, carried out by the same API (R1, R3,
// R4.4, R5, R6, R7).

// live runs the server's background work (the console's change notices)
// for the test.
func (s *stack) live() {
	ctx, cancel := context.WithCancel(context.Background())
	s.t.Cleanup(cancel)
	go func() { _ = s.srv.Run(ctx) }()
}

// backdated creates complaint no for assignee, received days ago: its
// contact and plan clocks are breached at once (R3).
func (s *stack) backdated(no, assignee string, days int) {
	s.t.Helper()
	c := complaintBody(no)
	c["assignee_id"] = assignee
	c["customer"] = map[string]any{"name": "王小明", "phone": "+86 138 0013 8000"}
	c["received_at"] = time.Now().AddDate(0, 0, -days).Format(time.RFC3339)
	s.must(s.call("officer1", "POST", "/api/v1/complaints", c), 201, "complaint "+no)
}

// R1: each role signs in with a pasted token and lands on their own view;
// a bad token is refused with a message; sign-out ends the session.
func TestConsole_R1_SignInEachRole(t *testing.T) {
	s := startStack(t)
	b := s.newBrowser()
	b.open("/")
	b.axe()
	b.run(typeInto("#token", "not-a-token"), submit("#token"))
	b.waitText(".flash.error", "not valid")
	for user, home := range map[string]string{
		"officer1": "/console/board", "manager1": "/console/team", "hr1": "/console/hr",
		"agent1": "/console/me", "committee1": "/console/approvals", "admin1": "/console/admin",
	} {
		b.signIn(user)
		if got := b.path(); got != home {
			t.Errorf("%s lands on %s, want %s", user, got, home)
		}
		b.axe()
		b.shot(user)
		b.signOut()
	}
	// Signed out: a console page sends the browser to sign in.
	b.open("/console/board")
	if got := b.path(); got != "/" {
		t.Errorf("signed out, /console/board ends at %s", got)
	}
}

// R3 board: a back-dated complaint shows as breached with a ticking
// countdown; an escalation fired while the page is open appears without a
// reload; the officer acknowledges it in place; a command the state
// forbids shows the server's message.
func TestConsole_R3_BoardLiveAndAcknowledge(t *testing.T) {
	s := startStack(t)
	s.live()
	s.backdated("B-1", "agent1", 3)
	b := s.newBrowser()
	b.signIn("officer1")
	b.waitText("#live", "B-1")
	row := `tr[data-clock-state="breached"] a[href="/console/complaints/B-1"]`
	if n := eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, row)); n != 2 {
		t.Errorf("B-1's breached clocks on the board: %d, want contact and plan", n)
	}
	first := b.text(`tr[data-clock-state="breached"] .countdown`)
	if !strings.HasPrefix(first, "overdue by ") {
		t.Errorf("countdown %q", first)
	}
	s.poll("the countdown to tick", 5*time.Second, func() bool { return b.text(`tr[data-clock-state="breached"] .countdown`) != first })
	b.axe()

	// An escalation fired while the page is open: no reload.
	eval[int](b, `window.sameDocument = 1`)
	s.backdated("B-2", "agent2", 2)
	b.waitText("#live", "B-2")
	if !eval[bool](b, `window.sameDocument === 1`) {
		t.Error("the page reloaded to show the new escalation")
	}
	b.shot("board")

	// Acknowledge B-1's contact escalation from the board.
	esc := "#esc-B-1_contact_1"
	b.run(click(esc+" details:nth-of-type(1) summary"),
		typeInto(esc+" details:nth-of-type(1) textarea", "called the customer back"),
		click(esc+" details:nth-of-type(1) button[type=submit]"))
	b.waitText("#status", "Acknowledged.")
	got := s.must(s.call("officer1", "GET", "/api/v1/complaints/B-1", nil), 200, "B-1")
	acked := false
	for _, e := range got.body["escalations"].([]any) {
		m := e.(map[string]any)
		acked = acked || (m["id"] == "B-1.contact.1" && m["acknowledged_by"] == "officer1")
	}
	if !acked {
		t.Errorf("B-1.contact.1 not acknowledged by officer1: %s", got.raw)
	}
	s.poll("the acknowledged escalation to leave the queue", 10*time.Second, func() bool {
		return eval[int](b, `document.querySelectorAll("#esc-B-1_contact_1").length`) == 0
	})

	// Extend to a past instant: the workflow's validator refuses, and the
	// message shows beside the form.
	esc = "#esc-B-1_plan_1"
	b.run(click(esc+" details:nth-of-type(3) summary"),
		setValue(esc+" details:nth-of-type(3) input[type=datetime-local]", "2020-01-01T09:00"),
		typeInto(esc+" details:nth-of-type(3) textarea", "customer asked"),
		click(esc+" details:nth-of-type(3) button[type=submit]"))
	b.waitText(esc+" details:nth-of-type(3) .result", "may only move forward")
	b.shot("refused")

	// The complaint page of the breached complaint, as the officer sees it.
	b.open("/console/complaints/B-1")
	b.waitText("#live", "Deadline missed")
	b.axe()
	b.shot("complaint")

	// The board on a 390 px phone: nothing wider than the screen.
	b.run(viewport(390, 844))
	b.open("/console/board")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("the board is %d px wide on a 390 px screen", w)
	}
	b.shot("phone")
}

// R3/R7: the assignee resolves from the complaint page and sees the new
// state; another agent's complaint is a 403 page; a form posted without
// its CSRF token is refused.
func TestConsole_R3_AssigneeResolvesFromComplaintPage(t *testing.T) {
	s := startStack(t)
	s.live()
	c := complaintBody("P-1")
	c["customer"] = map[string]any{"name": "李女士", "phone": "+86 138 0013 8001"}
	c["description"] = "冰箱不制冷"
	s.must(s.call("officer1", "POST", "/api/v1/complaints", c), 201, "P-1")
	s.backdated("P-2", "agent2", 1)

	for _, step := range []struct{ path, field string }{{"contact", "note"}, {"plan", "plan"}} {
		s.must(s.call("agent1", "POST", "/api/v1/complaints/P-1/"+step.path, map[string]any{step.field: "done"}), 200, step.path)
	}

	b := s.newBrowser()
	b.signIn("agent1")
	b.open("/console/complaints/P-1")
	b.waitText("#live", "Resolve")
	b.axe()
	b.run(click(`details:has(form[action$="/P-1/resolve"]) summary`),
		typeInto(`form[action$="/P-1/resolve"] textarea`, "replaced the compressor 压缩机"),
		click(`form[action$="/P-1/resolve"] button[type=submit]`))
	b.waitText("#status", "Resolved.")
	b.waitText("#live", "Resolved by")
	if r := s.must(s.call("agent1", "GET", "/api/v1/complaints/P-1", nil), 200, "P-1"); r.body["status"] != "resolved" {
		t.Errorf("P-1 status %v", r.body["status"])
	}
	b.shot("resolved")

	// Another agent's complaint: the API's 403, as a page.
	b.open("/console/complaints/P-2")
	b.waitText("h1", "Not yours to see")
	b.axe()
	b.shot("forbidden")
	cc := s.consoleClient("agent1")
	if status, _ := cc.get("/console/complaints/P-2"); status != 403 {
		t.Errorf("agent1 GET another's complaint page: %d", status)
	}
	// Without its CSRF token a form is refused, and nothing happens.
	if status, _ := cc.post("/console/do/complaints/P-1/reopen", url.Values{"reason": {"again"}}); status != 403 {
		t.Errorf("a post without CSRF token: %d", status)
	}
	if status, _ := cc.post("/console/do/complaints/P-1/reopen", url.Values{"reason": {"again"}, "csrf": {"forged"}}); status != 403 {
		t.Errorf("a post with a forged CSRF token: %d", status)
	}
	if r := s.must(s.call("agent1", "GET", "/api/v1/complaints/P-1", nil), 200, "P-1"); r.body["status"] != "resolved" {
		t.Errorf("P-1 changed by a refused post: %v", r.body["status"])
	}
	// With it, the same post is carried out (and no JavaScript is needed).
	if status, _ := cc.post("/console/do/complaints/P-1/reopen", url.Values{"reason": {"again"}, "csrf": {cc.csrf}}); status != 200 {
		t.Errorf("a post with its CSRF token: %d", status)
	}
}

// R3/R4.4: a missed clock proposes a deduction; the manager finds it on
// their page and confirms it there.
func TestConsole_R4_4_ManagerConfirmsBreachDeduction(t *testing.T) {
	s := startStack(t)
	s.live()
	s.backdated("D-1", "agent1", 3)
	var id string
	s.poll("the breach's proposed deduction", 20*time.Second, func() bool {
		items, _ := s.call("manager1", "GET", "/api/v1/deductions?status=proposed", nil).body["items"].([]any)
		if len(items) == 1 {
			id = fmt.Sprint(items[0].(map[string]any)["id"])
		}
		return id != ""
	})
	b := s.newBrowser()
	b.signIn("manager1")
	row := "#ded-" + id
	b.waitText(row, "missed clock")
	b.axe()
	b.shot("team")
	b.run(click(row+" details:nth-of-type(1) summary"), typeInto(row+" details:nth-of-type(1) textarea", "checked the call log"),
		click(row+" details:nth-of-type(1) button[type=submit]"))
	b.waitText("#status", "Deduction confirmed.")
	r := s.must(s.call("manager1", "GET", "/api/v1/deductions?status=confirmed", nil), 200, "confirmed deductions")
	if items, _ := r.body["items"].([]any); len(items) != 1 || fmt.Sprint(items[0].(map[string]any)["id"]) != id ||
		items[0].(map[string]any)["decided_by"] != "manager1" {
		t.Errorf("confirmed deductions: %s", r.raw)
	}
	s.poll("the confirmed deduction to leave the page", 10*time.Second, func() bool {
		return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, row)) == 0
	})
}

// R5.3: HR approves a reward on the desk, then records its payout there.
func TestConsole_R5_HRApprovesAndRecordsPayout(t *testing.T) {
	s := startStack(t)
	s.live()
	s.must(s.call("manager1", "POST", "/api/v1/rewards", rewardBody("R-C1", "agent1", "cash", 100000)), 201, "nominate")
	s.waitInbox("head1", "", "R-C1")
	s.must(s.call("head1", "POST", "/api/v1/rewards/R-C1/approve", map[string]any{"comment": "well deserved"}), 200, "head approves")
	s.waitInbox("hr1", "", "R-C1")

	b := s.newBrowser()
	b.signIn("hr1")
	b.waitText("#live", "R-C1")
	b.axe()
	b.shot("desk")
	b.run(click(`details:has(form[action$="/R-C1/approve"]) summary`), click(`form[action$="/R-C1/approve"] button[type=submit]`))
	b.waitText("#status", "Approved.")
	b.waitText("#live", "Record payout")
	b.run(click(`details:has(form[action$="/R-C1/payout"]) summary`), typeInto(`form[action$="/R-C1/payout"] input[name=payment_ref]`, "PAY-2026-001"),
		click(`form[action$="/R-C1/payout"] button[type=submit]`))
	b.waitText("#status", "Payout recorded.")
	r := s.must(s.call("hr1", "GET", "/api/v1/rewards/R-C1", nil), 200, "R-C1")
	if r.body["status"] != "paid" || r.body["payment_ref"] != "PAY-2026-001" {
		t.Errorf("after the payout: %s", r.raw)
	}
	b.open("/console/rewards/R-C1")
	b.waitText("#live", "PAY-2026-001")
	b.axe()
	b.shot("reward")
}

// R4/R6: HR starts the month on the desk; the agent sees the result
// appear on their page and appeals it there; once in stage 2, HR decides
// on the desk, the original score kept beside the correction.
func TestConsole_R6_AgentAppealsAndHRDecides(t *testing.T) {
	s := startStack(t, withPublicationWindow(2*time.Minute))
	s.live()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(sh)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, sh).AddDate(0, -1, 0)
	month := first.Format("2006-01")
	s.must(s.call("agent1", "POST", "/api/v1/work-orders", map[string]any{"work_order_no": "WO-1", "technician_id": "agent1",
		"completed_at": first.AddDate(0, 0, 4).Add(12 * time.Hour).Format(time.RFC3339)}), 201, "work order")

	agent := s.newBrowser()
	agent.signIn("agent1")
	hr := s.newBrowser()
	hr.signIn("hr1")
	hr.waitText("#live", month+" has not been assessed")
	hr.run(click(`details:has(form[action$="/assessment-cycles"]) summary`), click(`form[action$="/assessment-cycles"] button[type=submit]`))
	hr.waitText("#status", "Assessment started.")

	// The result reaches the agent's open page by itself.
	agent.waitText("#live", month)
	agent.axe()
	agent.run(click(`details:has(form[action$="/appeals"]) summary`), typeInto(`form[action$="/appeals"] textarea`, "the repeat visit was the customer's request"),
		click(`form[action$="/appeals"] button[type=submit]`))
	agent.waitText("#status", "Appeal opened.")
	agent.shot("appealed")
	var appealID string
	s.poll("the appeal", 10*time.Second, func() bool {
		items, _ := s.call("hr1", "GET", "/api/v1/appeals?status=open", nil).body["items"].([]any)
		if len(items) == 1 {
			appealID = items[0].(map[string]any)["id"].(string)
		}
		return appealID != ""
	})
	s.must(s.call("manager1", "POST", "/api/v1/appeals/"+appealID+"/escalate", map[string]any{"reason": "the customer confirms"}), 200, "escalate")

	hr.waitText("#live", "Appeals in stage 2")
	form := fmt.Sprintf(`form[action$="/appeals/%s/decision"]`, appealID)
	hr.waitText("#live", "Decide")
	hr.run(click(`details:has(`+form+`) summary`), setValue(form+` select[name=outcome]`, "upheld"),
		typeInto(form+` input[name=corrected_score]`, "90"), typeInto(form+` textarea[name=reason]`, "the visit time was the customer's choice"),
		click(form+` button[type=submit]`))
	hr.waitText("#status", "Decided.")
	r := s.must(s.call("hr1", "GET", "/api/v1/appeals/"+appealID, nil), 200, "appeal")
	if r.body["status"] != "upheld" || r.body["corrected_score"] != 90.0 {
		t.Errorf("after the decision: %s", r.raw)
	}
	hr.waitText("#live", "corrected from")
	hr.axe()
	hr.shot("desk")
	hr.open("/console/appeals/" + appealID)
	hr.waitText("#live", "Corrected score")
	hr.axe()
	hr.shot("appeal")

	// R7 reports: the month's ranking with the corrected score, and the
	// appeal's outcome.
	hr.open("/console/reports?month=" + month)
	hr.waitText("#live", "CSI ranking, "+month)
	if got := hr.text(`#csi-agents tbody tr td:nth-of-type(5)`); got != "90.0" {
		t.Errorf("agent1's score in the CSI ranking: %q", got)
	}
	hr.waitText("#live", "Appeal outcomes")
	hr.axe()
	hr.shot("reports")
}
