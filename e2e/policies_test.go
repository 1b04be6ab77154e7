package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/workflows"
)

// dueOf is a clock's due_at in a complaint answer.
func dueOf(t *testing.T, body map[string]any, clock string) time.Time {
	t.Helper()
	c := clockNamed(body, clock)
	if c == nil {
		t.Fatalf("no %s clock in %v", clock, body)
	}
	due, err := time.Parse(time.RFC3339, c["due_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return due
}

// complaintPolicy is the rule book's complaint policy with another
// resolution time.
func complaintPolicy(days int) map[string]any {
	return map[string]any{"contact_within": "24h", "plan_within": "48h", "resolution_working_days": days,
		"warning_fraction": 0.75, "level2_working_days": 1, "reopen_within": "720h", "deduction_points": 20}
}

// R2, R3 (issue 12): an admin changes the resolution policy to 5 working
// days; a complaint created before keeps 7 (version 1), one created after
// gets 5 (version 2), and each shows its version. The change is audited;
// bad versions are refused field by field; only an admin may make one.
func TestR2_PolicyVersionsReachNewCasesOnly(t *testing.T) {
	s := startStack(t)
	old := s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("P-1")), http.StatusCreated, "old complaint")

	if r := s.call("manager1", "POST", "/api/v1/policies/complaint", map[string]any{"reason": "x", "policy": complaintPolicy(5)}); r.status != http.StatusForbidden {
		t.Errorf("a manager's version: %d", r.status)
	}
	for name, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"no reason":      {map[string]any{"policy": complaintPolicy(5)}, "reason"},
		"no policy":      {map[string]any{"reason": "x"}, "policy"},
		"zero days":      {map[string]any{"reason": "x", "policy": complaintPolicy(0)}, "policy"},
		"in the past":    {map[string]any{"reason": "x", "policy": complaintPolicy(5), "effective_from": time.Now().Add(-time.Hour).Format(time.RFC3339)}, "effective_from"},
		"unknown field":  {map[string]any{"reason": "x", "policy": map[string]any{"resolution_days": 5}}, "policy.resolution_days"},
		"bad duration":   {map[string]any{"reason": "x", "policy": map[string]any{"contact_within": "a day"}}, "policy"},
		"wrong type":     {map[string]any{"reason": "x", "policy": map[string]any{"resolution_working_days": "five"}}, "policy.resolution_working_days"},
		"too many days":  {map[string]any{"reason": "x", "policy": complaintPolicy(61)}, "policy"},
		"far in advance": {map[string]any{"reason": "x", "policy": complaintPolicy(5), "effective_from": time.Now().AddDate(2, 0, 0).Format(time.RFC3339)}, "effective_from"},
	} {
		r := s.call("admin1", "POST", "/api/v1/policies/complaint", c.body)
		if r.status != http.StatusBadRequest || r.fields()[c.field] == nil {
			t.Errorf("%s: %d %s, want 400 on %s", name, r.status, r.raw, c.field)
		}
	}
	if r := s.call("admin1", "POST", "/api/v1/policies/holidays", map[string]any{"reason": "x"}); r.status != http.StatusNotFound {
		t.Errorf("unknown kind: %d", r.status)
	}

	v2 := s.must(s.call("admin1", "POST", "/api/v1/policies/complaint", map[string]any{"reason": "faster resolution", "policy": complaintPolicy(5)}),
		http.StatusCreated, "version 2")
	if v2.body["version"] != float64(2) || v2.body["in_force"] != true {
		t.Fatalf("version 2: %s", v2.raw)
	}
	if !hasAudit(s.auditOf("policy", "complaint"), "admin1", "version", "1", "2") {
		t.Error("the new version is not in the admin audit")
	}
	list := s.must(s.call("agent1", "GET", "/api/v1/policies?kind=complaint", nil), http.StatusOK, "policies")
	if items := list.body["items"].([]any); len(items) != 2 || items[0].(map[string]any)["in_force"] != true || items[1].(map[string]any)["in_force"] != false {
		t.Errorf("versions: %s", list.raw)
	}

	recent := s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("P-2")), http.StatusCreated, "new complaint")
	received, _ := time.Parse(time.RFC3339, recent.body["received_at"].(string))
	cal := calendar.New(shanghai, nil)
	if recent.body["policy_version"] != float64(2) || !dueOf(t, recent.body, "resolution").Equal(cal.AddWorkingDays(received, 5)) {
		t.Errorf("new complaint: version %v, resolution due %s", recent.body["policy_version"], dueOf(t, recent.body, "resolution"))
	}
	old = s.must(s.call("agent1", "GET", "/api/v1/complaints/P-1", nil), http.StatusOK, "old complaint")
	oldReceived, _ := time.Parse(time.RFC3339, old.body["received_at"].(string))
	if old.body["policy_version"] != float64(1) || !dueOf(t, old.body, "resolution").Equal(cal.AddWorkingDays(oldReceived, 7)) {
		t.Errorf("old complaint: version %v, resolution due %s", old.body["policy_version"], dueOf(t, old.body, "resolution"))
	}
	// A version may be scheduled ahead; none may start before the newest.
	tomorrow := time.Now().Add(24 * time.Hour).Format(time.RFC3339)
	if r := s.call("admin1", "POST", "/api/v1/policies/complaint", map[string]any{"reason": "x", "policy": complaintPolicy(6), "effective_from": tomorrow}); r.status != http.StatusCreated || r.body["in_force"] != false {
		t.Errorf("version 3 from tomorrow: %d %s", r.status, r.raw)
	}
	inAnHour := time.Now().Add(time.Hour).Format(time.RFC3339)
	if r := s.call("admin1", "POST", "/api/v1/policies/complaint", map[string]any{"reason": "x", "policy": complaintPolicy(4), "effective_from": inAnHour}); r.status != http.StatusConflict {
		t.Errorf("version 4 before version 3: %d %s", r.status, r.raw)
	}
}

// R2, last rule (issue 12): a company day off added after two complaints
// were received reaches them only by a recorded recalculation. The preview
// lists both with old and new deadline and changes nothing; the apply to a
// chosen one moves only it, with who, when, why, old and new deadline in
// its audit trail, and a final report; the other keeps its deadline.
func TestR2_RecordedRecalculationAfterAnOverride(t *testing.T) {
	s := startStack(t)
	a := s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("R-1")), http.StatusCreated, "R-1")
	s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("R-2")), http.StatusCreated, "R-2")
	oldDue := dueOf(t, a.body, "resolution")

	// The next working day after today becomes a company day off.
	received, _ := time.Parse(time.RFC3339, a.body["received_at"].(string))
	next := calendar.DateOf(calendar.New(shanghai, nil).AddWorkingDays(received, 1).Add(-time.Second), shanghai)
	s.must(s.call("admin1", http.MethodPut, "/api/v1/calendar/overrides/"+next.String(), map[string]any{"working": false, "note": "company day off"}),
		http.StatusCreated, "override")
	newDue := calendar.New(shanghai, []calendar.Override{{Date: next, Working: false}}).AddWorkingDays(received, 7)

	if r := s.call("agent1", "POST", "/api/v1/recalculations/preview", nil); r.status != http.StatusForbidden {
		t.Errorf("an agent's preview: %d", r.status)
	}
	preview := s.must(s.call("officer1", "POST", "/api/v1/recalculations/preview", nil), http.StatusOK, "preview")
	items := preview.body["items"].([]any)
	if len(items) != 2 || preview.body["running"] != float64(2) {
		t.Fatalf("preview: %s", preview.raw)
	}
	first := items[0].(map[string]any)
	change := first["changes"].([]any)[0].(map[string]any)
	if first["complaint_no"] != "R-1" || change["clock"] != "resolution" || change["old_due_at"] != oldDue.Format(time.RFC3339) ||
		change["new_due_at"] != newDue.In(shanghai).Format(time.RFC3339) {
		t.Errorf("preview of R-1: %v, want %s -> %s", first, oldDue, newDue)
	}
	if got := dueOf(t, s.must(s.call("agent1", "GET", "/api/v1/complaints/R-1", nil), http.StatusOK, "R-1").body, "resolution"); !got.Equal(oldDue) {
		t.Errorf("the preview moved R-1 to %s", got)
	}

	for name, body := range map[string]map[string]any{
		"no reason":      {"complaint_nos": []string{"R-1"}},
		"bad number":     {"reason": "x", "complaint_nos": []string{"R 1\x00"}},
		"unknown policy": {"reason": "x", "policy_version": 99},
	} {
		if r := s.call("officer1", "POST", "/api/v1/recalculations", body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	started := s.must(s.call("officer1", "POST", "/api/v1/recalculations", map[string]any{"reason": "company day off", "complaint_nos": []string{"R-1"}}),
		http.StatusAccepted, "apply")
	id := started.body["id"].(string)
	var report response
	s.poll("the recalculation's report", 30*time.Second, func() bool {
		report = s.call("officer1", "GET", "/api/v1/recalculations/"+id, nil)
		return report.body["status"] == "completed"
	})
	if report.body["total"] != float64(1) || report.body["changed"] != float64(1) || report.body["requested_by"] != "officer1" {
		t.Errorf("report: %s", report.raw)
	}
	s.saveHistory(workflows.RecalculationWorkflowID(id), "", filepath.Join("..", "workflows", "testdata", "recalculation_one_case.json"))
	after := s.must(s.call("agent1", "GET", "/api/v1/complaints/R-1", nil), http.StatusOK, "R-1")
	if !dueOf(t, after.body, "resolution").Equal(newDue) {
		t.Errorf("R-1 resolution due %s, want %s", dueOf(t, after.body, "resolution"), newDue)
	}
	var ev map[string]any
	for _, e := range after.body["events"].([]any) {
		if e := e.(map[string]any); e["type"] == "recalculated" {
			ev = e
		}
	}
	if ev == nil || ev["actor_id"] != "officer1" || ev["reason"] != "company day off" || ev["data"].(map[string]any)["batch_id"] != id {
		t.Errorf("R-1's audit event: %v", ev)
	}
	other := s.must(s.call("agent1", "GET", "/api/v1/complaints/R-2", nil), http.StatusOK, "R-2")
	if !dueOf(t, other.body, "resolution").Equal(oldDue) {
		t.Errorf("R-2 moved without being chosen")
	}
	// The list has it; the same Idempotency-Key would find it; the report outlives the workflow in PostgreSQL.
	list := s.must(s.call("admin1", "GET", "/api/v1/recalculations", nil), http.StatusOK, "list")
	if items := list.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id || items[0].(map[string]any)["status"] != "completed" {
		t.Errorf("list: %s", list.raw)
	}
}

// R1, R2 (issue 12) in the console, with real clicks in Chromium: the
// admin saves a new complaint policy version (5 working days) from the
// policies page; after a company day off, the escalation officer previews
// the running complaints that would change, applies the recalculation to
// them with a reason, reads the report, and finds the audit event on the
// complaint's page. axe runs on the page.
func TestConsole_R2_PolicyAndRecalculation(t *testing.T) {
	s := startStack(t)
	s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody("CR-1")), http.StatusCreated, "CR-1")
	b := s.newBrowser()

	b.signIn("admin1")
	b.open("/console/policies")
	form := `form[action="/console/policies/complaint"]`
	b.run(click(`details:has(`+form+`) summary`),
		setValue(form+` input[name="resolution_working_days"]`, "5"),
		typeInto(form+` textarea[name="reason"]`, "faster resolution 更快"),
		click(form+` button[type=submit]`))
	b.waitText("#policy-complaint + table", "2 in force")
	b.axe()
	if r := s.call("agent1", "POST", "/api/v1/complaints", complaintBody("CR-2")); r.body["policy_version"] != float64(2) {
		t.Errorf("a complaint after the console's version: %s", r.raw)
	}
	b.signOut()

	// A day off on the next working day moves CR-1's and CR-2's resolution.
	c := s.must(s.call("agent1", "GET", "/api/v1/complaints/CR-1", nil), http.StatusOK, "CR-1")
	received, _ := time.Parse(time.RFC3339, c.body["received_at"].(string))
	next := calendar.DateOf(calendar.New(shanghai, nil).AddWorkingDays(received, 1).Add(-time.Second), shanghai)
	s.must(s.call("admin1", http.MethodPut, "/api/v1/calendar/overrides/"+next.String(), map[string]any{"working": false, "note": "day off"}),
		http.StatusCreated, "override")

	b.signIn("officer1")
	b.open("/console/policies")
	b.run(click(`form[action="/console/policies#recalculation"] button[type=submit]`))
	b.waitText("#preview", "CR-1")
	b.waitText("#preview", "CR-2")
	b.axe()
	b.run(click(`input[name="complaint_no"][value="CR-2"]`), // only CR-1
		typeInto("#recalc-reason", "company day off"),
		click(`form[action="/console/policies/recalculate"] button[type=submit]`))
	b.waitText("#report", "Recalculation")
	b.waitText("#report", "completed") // the running report reloads itself
	if got := b.text("#report p"); !strings.Contains(got, "1 changed") {
		t.Errorf("report: %s", got)
	}
	b.open("/console/complaints/CR-1")
	b.waitText("#main", "Deadlines recalculated")
	b.waitText("#main", "SLA policy version 1") // received before version 2: keeps 1 (R2)
	b.waitText("#main", "company day off")
	if r := s.call("agent1", "GET", "/api/v1/complaints/CR-2", nil); strings.Contains(string(r.raw), "recalculated") {
		t.Error("CR-2 was recalculated without being chosen")
	}
}

// R2, last rule: a complaint recalculated (a company day off and the
// 5-day policy version) between its contact and its plan, then worked to
// its close. Recorded for the replay test (UPDATE_HISTORY=1).
func TestR2_RecalculatedComplaintHistoryRecorded(t *testing.T) {
	five := workflows.DefaultSLAPolicy()
	five.Version, five.ResolutionWorkingDays = 2, 5
	five.ReopenWithin = workflows.Duration(2 * time.Second) // the recording's: it waits for the close
	received := time.Now()
	dayOff := calendar.DateOf(calendar.New(shanghai, nil).AddWorkingDays(received, 1).Add(-time.Second), shanghai)
	recordComplaintRun(t, complaintRecording{no: "H-R", received: received, withStart: true,
		file: filepath.Join("..", "workflows", "testdata", "complaint_recalculated.json"),
		steps: []complaintUpdate{
			{workflows.UpdateContact, workflows.ContactInput{Actor: "agent1", Note: "called"}, nil},
			{workflows.UpdateRecalculate, workflows.RecalculateInput{Actor: "officer1", Reason: "company day off", BatchID: "h-r",
				Calendar: []calendar.Override{{Date: dayOff, Working: false, Note: "day off"}}, Policy: &five}, nil},
			{workflows.UpdatePlan, workflows.PlanInput{Actor: "agent1", Plan: "swap"}, nil},
			{workflows.UpdateResolve, workflows.ResolveInput{Actor: "agent1", Resolution: "swapped"}, nil},
			{workflows.UpdateSurvey, workflows.SurveyInput{Actor: "agent1", Ratings: workflows.Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}}, nil},
		}})
}

// R2, last rule (issue 12): a recalculation asked for while no worker runs
// is answered at once (202) and waits, durable; when a worker comes back
// it runs to its end, every case applied exactly once. The same request
// again (its Idempotency-Key) finds the same batch.
func TestR2_RecalculationWaitsForItsWorkerAndAppliesOnce(t *testing.T) {
	pool := pgtest.New(t)
	s, w, queue := faultStack(t, pool)
	const n = 12
	for i := range n {
		s.must(s.call("agent1", "POST", "/api/v1/complaints", complaintBody(fmt.Sprintf("W-%02d", i))), http.StatusCreated, "complaint")
	}
	c := s.must(s.call("agent1", "GET", "/api/v1/complaints/W-00", nil), http.StatusOK, "W-00")
	received, _ := time.Parse(time.RFC3339, c.body["received_at"].(string))
	next := calendar.DateOf(calendar.New(shanghai, nil).AddWorkingDays(received, 1).Add(-time.Second), shanghai)
	s.must(s.call("admin1", http.MethodPut, "/api/v1/calendar/overrides/"+next.String(), map[string]any{"working": false, "note": "day off"}),
		http.StatusCreated, "override")

	w.Stop() // the worker is gone
	key := "recalc-while-down"
	r := s.timedCall("officer1", "POST", "/api/v1/recalculations", map[string]any{"reason": "day off"}, key)
	if r.status != http.StatusAccepted || r.body["status"] != "running" || r.body["total"] != float64(n) || r.body["id"] != key {
		t.Fatalf("apply while no worker runs: %d %s", r.status, r.raw)
	}
	startWorker(t, s.temporal, queue, pool) // back
	var report response
	s.poll("the batch's end", 60*time.Second, func() bool {
		report = s.call("officer1", "GET", "/api/v1/recalculations/"+key, nil)
		return report.body["status"] == "completed"
	})
	if report.body["changed"] != float64(n) || report.body["failed"] != float64(0) {
		t.Fatalf("report: %s", report.raw)
	}
	if again := s.timedCall("officer1", "POST", "/api/v1/recalculations", map[string]any{"reason": "day off"}, key); again.status != http.StatusAccepted ||
		again.body["status"] != "completed" {
		t.Errorf("the same key again: %d %s", again.status, again.raw)
	}
	if got := countRows(t, pool, `SELECT count(*) FROM complaint_events WHERE type = 'recalculated'`); got != n {
		t.Errorf("%d recalculated events, want one per complaint (%d)", got, n)
	}
}
