package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/scoring"
	"github.com/acme/aftersales/workflows"
)

// sep is a day and hour of September 2026 in Asia/Shanghai.
func sep(day, hour int) time.Time { return time.Date(2026, 9, day, hour, 0, 0, 0, shanghai) }

// clk is one clock of a complaint's read model.
type clk struct {
	due time.Time
	met *time.Time
}

// complaintRM writes a complaint's read model as the sync activity would:
// the three clocks, the resolution (status resolved when set) and a paused
// resolution clock.
func complaintRM(t *testing.T, a *Activities, no, assignee, team string, received time.Time, contact, plan, resolution clk, resolvedAt *time.Time, paused bool) {
	t.Helper()
	intake(t, a, no, assignee, team, received)
	status := "open"
	if resolvedAt != nil {
		status = "resolved"
	}
	_, err := a.Pool.Exec(context.Background(), `UPDATE complaints SET status = $2, resolved_at = $3,
		contact_due_at = $4, contact_met_at = $5, plan_due_at = $6, plan_met_at = $7,
		resolution_due_at = $8, resolution_met_at = $9, resolution_paused = $10, last_seq = 1
		WHERE complaint_no = $1`,
		no, status, resolvedAt, contact.due, contact.met, plan.due, plan.met, resolution.due, resolution.met, paused)
	if err != nil {
		t.Fatal(err)
	}
}

// onTime is a complaint received at r whose three clocks were all met in time.
func onTime(t *testing.T, a *Activities, no, assignee, team string, r time.Time, resolved time.Time) {
	t.Helper()
	complaintRM(t, a, no, assignee, team, r,
		clk{r.Add(24 * time.Hour), ptr(r.Add(time.Hour))}, clk{r.Add(48 * time.Hour), ptr(r.Add(2 * time.Hour))},
		clk{r.Add(9 * 24 * time.Hour), &resolved}, &resolved, false)
}

// survey records a survey (on a complaint of its own that counts nowhere:
// no clocks, not resolved).
func survey(t *testing.T, a *Activities, no, employee string, at time.Time, r scoring.Ratings) {
	t.Helper()
	intake(t, a, no, employee, "team-a", at.Add(-time.Hour))
	_, err := a.Q.InsertSurvey(context.Background(), db.InsertSurveyParams{
		ComplaintNo: no, Resolution: 1, EmployeeID: employee, Attitude: int16(r.Attitude), Speed: int16(r.Speed),
		Quality: int16(r.Quality), Parts: int16(r.Parts), Cost: int16(r.Cost),
		Score: workflows.Ratings(r).Score(), SurveyedAt: at, RecordedBy: "manager1",
	})
	if err != nil {
		t.Fatal(err)
	}
}

// workOrder enters a work order the way POST /work-orders does: the insert
// and, for a repeat, the R4.2 30-day rule in one transaction.
func workOrder(t *testing.T, a *Activities, no, technician, team string, completed time.Time, repeatOf string) {
	t.Helper()
	ctx := context.Background()
	tx, err := a.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	q := db.New(tx)
	var rep *string
	if repeatOf != "" {
		rep = &repeatOf
	}
	h := make([]byte, 32)
	if _, err := q.InsertWorkOrder(ctx, db.InsertWorkOrderParams{WorkOrderNo: no, RequestHash: h, TechnicianID: technician,
		TeamID: team, CompletedAt: completed, RepeatOf: rep, CreatedBy: "manager1"}); err != nil {
		t.Fatal(err)
	}
	if rep != nil {
		if _, err := q.MarkWorkOrderCameBack(ctx, db.MarkWorkOrderCameBackParams{WorkOrderNo: repeatOf, RepeatNo: no, RepeatCompletedAt: completed}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// deduction inserts a deduction with a status (decided ones by manager1).
func deduction(t *testing.T, pool *pgxpool.Pool, employee, reason string, points int, status string, at time.Time) {
	t.Helper()
	var by *string
	var decided *time.Time
	if status != "proposed" {
		by, decided = ptr("manager1"), ptr(at.Add(time.Hour))
	}
	if _, err := pool.Exec(context.Background(), `INSERT INTO deductions (employee_id, reason_code, points, status,
		occurred_at, note, proposed_by, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, 'test', 'manager1', $6, $7)`,
		employee, reason, points, status, at, by, decided); err != nil {
		t.Fatal(err)
	}
}

var (
	all5 = scoring.Ratings{Attitude: 5, Speed: 5, Quality: 5, Parts: 5, Cost: 5}
	all4 = scoring.Ratings{Attitude: 4, Speed: 4, Quality: 4, Parts: 4, Cost: 4}
	all1 = scoring.Ratings{Attitude: 1, Speed: 1, Quality: 1, Parts: 1, Cost: 1}
)

// septemberFixture is a hand-built month, 2026-09 in Asia/Shanghai. The
// expected results, worked out by hand:
//
// agent1 (team-a):
//   - surveys 5/5/5/5/5 (score 5), 4/4/4/4/4 (4) and 3/4/5/2/1 (0.6+0.6+1.25+0.3+0.25 = 3):
//     CSAT = mean 4 / 5 x 100 = 80.0; the surveys of Aug 31 23:30 and Oct 1 00:00 are other months;
//   - work orders WO-1 (Sep 2; WO-2 came back 18 days later: not a first-time fix), WO-2,
//     WO-3 (Sep 5; its repeat WO-4 came 35 days later, in October: still a first-time fix), WO-5:
//     FTFR = 3 / 4 = 75.0;
//   - complaints: C-1 all met (timely); C-4 plan met late on Sep 22; C-6 contact never met
//     (due Sep 27); C-7 resolution due Oct 1 00:00 (= Sep 30 24:00, R2) met late: September;
//     not counted here: C-2 (first miss Oct 1), C-3 (first miss Aug 31, resolved in September),
//     C-5 (no miss, resolved in October), C-8 (resolution paused past its stale due_at, unresolved):
//     timeliness = 1 / 4 = 25.0;
//   - deductions: one confirmed (20); a cancelled 50, a proposed 20, one in October: not counted;
//   - score = 0.7 x 80 + 0.2 x 75 + 0.1 x 25 = 73.5, minus 20 = 53.5: failing.
//
// agent2 (team-b):
//   - surveys 5/5/5/5/5 (5) and 4/5/5/5/5 (0.8+0.75+1.25+0.75+1.25 = 4.8): CSAT = 4.9 / 5 x 100 = 98.0;
//   - no work orders: FTFR no data;
//   - complaints C-21 timely, C-22 contact met late: timeliness 50.0;
//   - score = (0.7 x 98 + 0.1 x 50) / 0.8 = 73.6 / 0.8 = 92.0: excellent.
//
// manager1 (team-a): only a confirmed deduction: no result (R4.4).
func septemberFixture(t *testing.T, a *Activities, pool *pgxpool.Pool) {
	t.Helper()
	survey(t, a, "S-1", "agent1", sep(3, 10), all5)
	survey(t, a, "S-2", "agent1", sep(14, 10), all4)
	survey(t, a, "S-3", "agent1", sep(30, 23), scoring.Ratings{Attitude: 3, Speed: 4, Quality: 5, Parts: 2, Cost: 1})
	survey(t, a, "S-4", "agent1", time.Date(2026, 8, 31, 23, 30, 0, 0, shanghai), all1)
	survey(t, a, "S-5", "agent1", time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai), all1)
	survey(t, a, "S-21", "agent2", sep(8, 10), all5)
	survey(t, a, "S-22", "agent2", sep(9, 10), scoring.Ratings{Attitude: 4, Speed: 5, Quality: 5, Parts: 5, Cost: 5})

	workOrder(t, a, "WO-1", "agent1", "team-a", sep(2, 10), "")
	workOrder(t, a, "WO-2", "agent1", "team-a", sep(20, 10), "WO-1")
	workOrder(t, a, "WO-3", "agent1", "team-a", sep(5, 10), "")
	workOrder(t, a, "WO-4", "agent1", "team-a", time.Date(2026, 10, 10, 10, 0, 0, 0, shanghai), "WO-3")
	workOrder(t, a, "WO-5", "agent1", "team-a", sep(25, 10), "")

	h := func(r time.Time, hours int) time.Time { return r.Add(time.Duration(hours) * time.Hour) }
	std := func(r time.Time) (clk, clk) { return clk{h(r, 24), nil}, clk{h(r, 48), nil} }
	onTime(t, a, "C-1", "agent1", "team-a", sep(10, 10), sep(12, 10))
	// C-2: received Sep 30 10:00, contact due Oct 1 10:00 met at 12:00: first miss in October.
	r := sep(30, 10)
	complaintRM(t, a, "C-2", "agent1", "team-a", r, clk{h(r, 24), ptr(h(r, 26))}, clk{h(r, 48), ptr(h(r, 27))},
		clk{h(r, 200), ptr(h(r, 40))}, ptr(h(r, 40)), false)
	// C-3: plan due Aug 31 10:00 met Sep 1: first miss in August, though resolved in September.
	r = time.Date(2026, 8, 29, 10, 0, 0, 0, shanghai)
	complaintRM(t, a, "C-3", "agent1", "team-a", r, clk{h(r, 24), ptr(h(r, 1))}, clk{h(r, 48), ptr(h(r, 71))},
		clk{h(r, 200), ptr(sep(3, 10))}, ptr(sep(3, 10)), false)
	// C-4: plan due Sep 22 10:00 met at 11:00.
	r = sep(20, 10)
	complaintRM(t, a, "C-4", "agent1", "team-a", r, clk{h(r, 24), ptr(h(r, 1))}, clk{h(r, 48), ptr(h(r, 49))},
		clk{h(r, 200), ptr(sep(25, 10))}, ptr(sep(25, 10)), false)
	// C-5: no miss, resolved Oct 2: counts in October.
	onTime(t, a, "C-5", "agent1", "team-a", sep(27, 10), time.Date(2026, 10, 2, 10, 0, 0, 0, shanghai))
	// C-6: open, contact never met (due Sep 27 10:00, long passed).
	r = sep(26, 10)
	c, p := std(r)
	complaintRM(t, a, "C-6", "agent1", "team-a", r, c, p, clk{h(r, 200), nil}, nil, false)
	// C-7: resolution due Oct 1 00:00 (R2: the end of Sep 30), met Oct 1 09:00.
	r = sep(22, 10)
	oct1 := time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai)
	complaintRM(t, a, "C-7", "agent1", "team-a", r, clk{h(r, 24), ptr(h(r, 1))}, clk{h(r, 48), ptr(h(r, 2))},
		clk{oct1, ptr(oct1.Add(9 * time.Hour))}, ptr(oct1.Add(9*time.Hour)), false)
	// C-8: resolution paused past its (stale) due_at: not running, so not missed; unresolved.
	r = sep(1, 10)
	complaintRM(t, a, "C-8", "agent1", "team-a", r, clk{h(r, 24), ptr(h(r, 1))}, clk{h(r, 48), ptr(h(r, 2))},
		clk{sep(10, 10), nil}, nil, true)

	onTime(t, a, "C-21", "agent2", "team-b", sep(14, 10), sep(15, 10))
	r = sep(15, 10)
	complaintRM(t, a, "C-22", "agent2", "team-b", r, clk{h(r, 24), ptr(h(r, 30))}, clk{h(r, 48), ptr(h(r, 31))},
		clk{h(r, 200), ptr(sep(18, 10))}, ptr(sep(18, 10)), false)

	deduction(t, pool, "agent1", "untimely_service", 20, "confirmed", sep(15, 10))
	deduction(t, pool, "agent1", "rude_to_customer", 50, "cancelled", sep(16, 10))
	deduction(t, pool, "agent1", "untimely_service", 20, "proposed", sep(17, 10))
	deduction(t, pool, "agent1", "untimely_service", 20, "confirmed", time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai))
	deduction(t, pool, "manager1", "training_unprepared", 20, "confirmed", sep(18, 10))
}

func cycleInput() workflows.CycleInput {
	return workflows.CycleInput{Month: "2026-09", StartedBy: "hr1", Policy: workflows.DefaultAssessmentPolicy(), Location: "Asia/Shanghai"}
}

// tenths shows a db.Numeric(4,1) column as "84.5", or "null".
func tenths(t *testing.T, n pgtype.Numeric) string {
	t.Helper()
	v, ok := db.TenthsOf(n)
	if !ok {
		return "null"
	}
	return v.String()
}

func TestComputeResultsHandBuiltMonth_R4_0_R4_1_R4_2_R4_3_R4_4(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	septemberFixture(t, a, pool)

	out, err := a.ComputeResults(ctx, cycleInput())
	if err != nil {
		t.Fatal(err)
	}
	want := []workflows.ResultRef{
		{AssessmentID: "2026-09_agent1", EmployeeID: "agent1", TeamID: "team-a", ManagerID: "manager1", HeadID: "head1",
			Score: 535, Band: "failing", Deductions: 1},
		// team-b has no supervisor: its department head manages it (R1).
		{AssessmentID: "2026-09_agent2", EmployeeID: "agent2", TeamID: "team-b", ManagerID: "head1", HeadID: "head1",
			Score: 920, Band: "excellent", Deductions: 0},
	}
	if !reflect.DeepEqual(out.Results, want) {
		t.Errorf("results =\n%+v\nwant\n%+v", out.Results, want)
	}

	rows, err := a.Q.ListMonthResults(ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2 (manager1 has only a deduction: no result, R4.4)", len(rows))
	}
	type row struct {
		surveys, orders, ftf, complaints, timely int32
		csat, ftfr, timeliness, score, band      string
		points, count                            int32
		status                                   string
		serious                                  bool
	}
	got := map[string]row{}
	for _, r := range rows {
		got[r.EmployeeID] = row{r.Surveys, r.WorkOrders, r.FirstTimeFixes, r.Complaints, r.TimelyComplaints,
			tenths(t, r.Csat), tenths(t, r.Ftfr), tenths(t, r.Timeliness), tenths(t, r.Score), r.Band,
			r.DeductionPoints, r.DeductionCount, r.Status, r.SeriousWarning}
	}
	for id, w := range map[string]row{
		"agent1": {3, 4, 3, 4, 1, "80.0", "75.0", "25.0", "53.5", "failing", 20, 1, "published", false},
		"agent2": {2, 0, 0, 2, 1, "98.0", "null", "50.0", "92.0", "excellent", 0, 0, "published", false},
	} {
		if got[id] != w {
			t.Errorf("%s = %+v\nwant %+v", id, got[id], w)
		}
	}
	c, err := a.Q.GetCycle(ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != "computing" || c.ResultsCount != 2 || c.StartedBy != "hr1" ||
		!c.PeriodStart.Equal(sep(1, 0)) || !c.PeriodEnd.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, shanghai)) {
		t.Errorf("cycle = %+v", c)
	}
}

func TestComputeResultsTwiceSameRowsAndKeepsFinal_R4_4_R6(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	septemberFixture(t, a, pool)
	first, err := a.ComputeResults(ctx, cycleInput())
	if err != nil {
		t.Fatal(err)
	}
	before, err := a.Q.ListMonthResults(ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.ComputeResults(ctx, cycleInput())
	if err != nil {
		t.Fatal(err)
	}
	after, err := a.Q.ListMonthResults(ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first, second) || !reflect.DeepEqual(before, after) {
		t.Errorf("a rerun changed something:\n%+v\n%+v", before, after)
	}

	// A final result is never recomputed, even when late data arrives; a
	// published one is.
	if _, err := pool.Exec(ctx, `UPDATE assessments SET status = 'final' WHERE id = '2026-09_agent2'`); err != nil {
		t.Fatal(err)
	}
	survey(t, a, "S-23", "agent2", sep(20, 10), all1)
	survey(t, a, "S-6", "agent1", sep(20, 10), all5)
	third, err := a.ComputeResults(ctx, cycleInput())
	if err != nil {
		t.Fatal(err)
	}
	// agent1: CSAT (5+4+3+5)/4/5 x 100 = 85.0; 0.7 x 85 + 15 + 2.5 = 77.0, minus 20 = 57.0.
	if third.Results[0].Score != 570 || third.Results[1].Score != 920 {
		t.Errorf("after late surveys: %+v", third.Results)
	}
}

func TestComputeResultsRejectsBadMonth(t *testing.T) {
	a, _ := setup(t)
	for _, in := range []workflows.CycleInput{{Month: "2026-13"}, {Month: "2026-9"}, {Month: "2026-09", Location: "Mars/Base"}} {
		_, err := a.ComputeResults(context.Background(), in)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !appErr.NonRetryable() {
			t.Errorf("%+v: err = %v, want non-retryable", in, err)
		}
	}
}

func TestWorkOrderRepeatWithin30Days_R4_2(t *testing.T) {
	a, _ := setup(t)
	ctx := context.Background()
	base := sep(1, 10)
	workOrder(t, a, "A", "agent1", "team-a", base, "")
	workOrder(t, a, "B", "agent1", "team-a", base, "")
	workOrder(t, a, "C", "agent1", "team-a", base, "")
	workOrder(t, a, "A2", "agent2", "team-b", base.Add(30*24*time.Hour), "A")             // exactly 30 days: came back
	workOrder(t, a, "B2", "agent1", "team-a", base.Add(30*24*time.Hour+time.Minute), "B") // later: a new repair
	workOrder(t, a, "C2", "agent1", "team-a", base.Add(time.Hour), "C")
	workOrder(t, a, "C3", "agent1", "team-a", base.Add(2*time.Hour), "C") // a second repeat keeps the first
	for no, want := range map[string]string{"A": "A2", "B": "", "C": "C2", "A2": ""} {
		w, err := a.Q.GetWorkOrder(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		if w.FirstTimeFix != (want == "") || (want != "" && (w.CameBackAs == nil || *w.CameBackAs != want)) {
			t.Errorf("%s: first_time_fix=%v came_back_as=%v, want came back as %q", no, w.FirstTimeFix, w.CameBackAs, want)
		}
	}
}

// insertResult writes a result row directly (with its cycle row).
func insertResult(t *testing.T, pool *pgxpool.Pool, month, employee, team, score, band, status string) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO assessment_cycles (month, status, started_by) VALUES ($1, 'closing', 'hr1')
		ON CONFLICT DO NOTHING`, month); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO assessments (id, month, employee_id, team_id, surveys, work_orders,
		first_time_fixes, complaints, timely_complaints, csat, score, band, status, computed_at)
		VALUES ($1, $2, $3, $4, 1, 0, 0, 0, 0, $5::numeric, $5::numeric, $6, $7, now())`,
		workflows.AssessmentID(month, employee), month, employee, team, score, band, status); err != nil {
		t.Fatal(err)
	}
}

func TestFinalizeCycleFinalProbationAndStars_R4_4_R4_5_R5_2(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	insertResult(t, pool, "2026-07", "agent1", "team-a", "50.0", "failing", "published")
	insertResult(t, pool, "2026-07", "agent2", "team-b", "0.0", "failing", "published")
	insertResult(t, pool, "2026-08", "agent1", "team-a", "95.0", "excellent", "published")
	insertResult(t, pool, "2026-08", "manager1", "team-a", "95.0", "excellent", "published")
	insertResult(t, pool, "2026-08", "agent2", "team-b", "0.0", "failing", "published")
	// manager1 ties agent1 for team-a's top score of August but has a
	// confirmed deduction that month (confirmed after the results were computed).
	deduction(t, pool, "manager1", "training_unprepared", 20, "confirmed", time.Date(2026, 8, 10, 10, 0, 0, 0, shanghai))

	jul, err := a.FinalizeCycle(ctx, workflows.FinalizeInput{Month: "2026-07", At: sep(3, 10), Location: "Asia/Shanghai"})
	if err != nil {
		t.Fatal(err)
	}
	if jul.Final != 2 || len(jul.Probation) != 0 || len(jul.ServiceStars) != 0 {
		t.Errorf("July: %+v", jul)
	}
	for range 2 { // idempotent
		aug, err := a.FinalizeCycle(ctx, workflows.FinalizeInput{Month: "2026-08", At: sep(5, 10), Location: "Asia/Shanghai"})
		if err != nil {
			t.Fatal(err)
		}
		want := workflows.FinalizeOutput{Final: 3, Probation: []string{"agent2"}, ServiceStars: []workflows.ServiceStar{
			{AssessmentID: "2026-08_agent1", EmployeeID: "agent1", TeamID: "team-a", Score: 950},
		}, RewardPolicy: workflows.DefaultRewardPolicy()} // the version in force (issue 12): the rule book's
		if !reflect.DeepEqual(aug, want) {
			t.Errorf("August: %+v\nwant %+v", aug, want)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM assessments WHERE status <> 'final'`); n != 0 {
		t.Errorf("%d results not final", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM probation WHERE employee_id = 'agent2' AND from_month = '2026-09' AND months = 3
		AND assessment_id = '2026-08_agent2'`); n != 1 {
		t.Errorf("probation rows = %d, want 1 (R4.4: three months from September)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM probation`); n != 1 {
		t.Errorf("probation rows = %d, want 1", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM assessments WHERE probation`); n != 1 {
		t.Errorf("results flagged probation = %d, want 1 (August's of agent2)", n)
	}
}

func TestServiceStarsTiesAndThreshold_R5_2(t *testing.T) {
	n := func(s string) db.StarCandidatesRow {
		var r db.StarCandidatesRow
		if err := r.Score.Scan(s); err != nil {
			t.Fatal(err)
		}
		return r
	}
	row := func(team, emp, score string, deductions int32) db.StarCandidatesRow {
		r := n(score)
		r.ID, r.EmployeeID, r.TeamID, r.ConfirmedDeductions = "m_"+emp, emp, team, deductions
		return r
	}
	got := serviceStars([]db.StarCandidatesRow{
		row("a", "a1", "96.5", 0), row("a", "a2", "96.5", 0), row("a", "a3", "95.0", 0), // tie: both
		row("b", "b1", "89.9", 0),                            // below 90: none
		row("c", "c1", "99.0", 1), row("c", "c2", "98.0", 0), // the top has a deduction: none (the star is the top score)
		row("d", "d1", "90.0", 0), // exactly 90
	}, 900)
	var ids []string
	for _, s := range got {
		ids = append(ids, s.EmployeeID)
	}
	if !slices.Equal(ids, []string{"a1", "a2", "d1"}) || got[0].Score != 965 {
		t.Errorf("stars = %+v", got)
	}
}

// appealAt builds an appeal's state with the first n of its events.
func appealState(n int) workflows.AppealState {
	opened := time.Date(2026, 9, 30, 10, 0, 0, 0, shanghai) // Wednesday; Oct 1-7 are statutory holidays
	events := []workflows.Event{
		{Seq: 1, Type: "opened", ActorID: "agent1", At: opened, Reason: "the survey of C-9 was not mine"},
		{Seq: 2, Type: "stage2", ActorID: "agent1", At: opened.Add(time.Hour), Reason: "not convinced"},
		{Seq: 3, Type: "escalated", ActorID: workflows.SystemActor, At: time.Date(2026, 10, 15, 0, 0, 0, 0, shanghai)},
		{Seq: 4, Type: "upheld", ActorID: "hr1", At: time.Date(2026, 10, 15, 10, 0, 0, 0, shanghai), Reason: "survey misattributed"},
	}
	st := workflows.AppealState{
		ID: workflows.AppealID("2026-09_agent1"), AssessmentID: "2026-09_agent1", AppellantID: "agent1",
		Stage: 1, Status: workflows.AppealOpen, DueAt: time.Date(2026, 10, 10, 0, 0, 0, 0, shanghai),
		OriginalScore: 535, Events: events[:n],
	}
	if n >= 2 {
		st.Stage, st.DueAt = 2, time.Date(2026, 10, 15, 0, 0, 0, 0, shanghai)
	}
	if n >= 3 {
		st.EscalatedAt = &events[2].At
	}
	if n >= 4 {
		st.Status, st.CorrectedScore = workflows.AppealUpheld, ptr(scoring.Tenths(810))
	}
	return st
}

func TestRecordAppealUpheldCorrectsOnce_R6_R7(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, nil)
	septemberFixture(t, a, pool)
	if _, err := a.ComputeResults(ctx, cycleInput()); err != nil {
		t.Fatal(err)
	}
	decidedAt := time.Date(2026, 10, 15, 10, 0, 0, 0, shanghai)
	decision := &workflows.DecideAppealInput{Actor: "hr1", Outcome: workflows.AppealUpheld, CorrectedScore: ptr(scoring.Tenths(810)), Reason: "survey misattributed"}
	recs := []workflows.AppealRecord{
		{State: appealState(1), Month: "2026-09"},
		{State: appealState(2), Month: "2026-09"},
		{State: appealState(3), Month: "2026-09"},
		{State: appealState(4), Month: "2026-09", Decision: decision, DecidedAt: &decidedAt},
		{State: appealState(4), Month: "2026-09", Decision: decision, DecidedAt: &decidedAt}, // a retry
		{State: appealState(2), Month: "2026-09"},                                            // an older state, late
	}
	for _, r := range recs {
		if err := a.RecordAppeal(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	res, err := a.Q.GetAssessment(ctx, "2026-09_agent1")
	if err != nil {
		t.Fatal(err)
	}
	if tenths(t, res.Score) != "81.0" || res.Band != "good" || tenths(t, res.OriginalScore) != "53.5" ||
		res.OriginalBand == nil || *res.OriginalBand != "failing" || res.CorrectedBy == nil || *res.CorrectedBy != "hr1" ||
		res.CorrectedAt == nil || !res.CorrectedAt.Equal(decidedAt) || res.CorrectionReason == nil || *res.CorrectionReason != "survey misattributed" {
		t.Errorf("corrected result = %+v", res)
	}
	ap, err := a.Q.GetAppealRow(ctx, workflows.AppealID("2026-09_agent1"))
	if err != nil {
		t.Fatal(err)
	}
	if ap.Status != "upheld" || ap.Stage != 2 || ap.LastSeq != 4 || tenths(t, ap.CorrectedScore) != "81.0" ||
		tenths(t, ap.OriginalScore) != "53.5" || ap.DecidedBy == nil || *ap.DecidedBy != "hr1" || ap.EscalatedAt == nil ||
		!ap.OpenedAt.Equal(time.Date(2026, 9, 30, 10, 0, 0, 0, shanghai)) || ap.Month != "2026-09" {
		t.Errorf("appeal row = %+v", ap)
	}
	if n := count(t, pool, `SELECT count(*) FROM appeal_events`); n != 4 {
		t.Errorf("%d appeal events, want 4", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM assessor_overturns WHERE assessor_id = 'manager1' AND decided_by = 'hr1'
		AND original_score = 53.5 AND corrected_score = 81.0 AND assessment_id = '2026-09_agent1'`); n != 1 {
		t.Errorf("overturn rows = %d, want 1 (R6: the assessor's record)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM assessor_overturns`); n != 1 {
		t.Errorf("overturn rows = %d, want 1", n)
	}
	// A rerun of the month keeps the corrected result (R6).
	out, err := a.ComputeResults(ctx, cycleInput())
	if err != nil {
		t.Fatal(err)
	}
	if out.Results[0].Score != 810 || out.Results[0].Band != "good" {
		t.Errorf("after a rerun: %+v", out.Results[0])
	}
	// R7: the trail is append-only.
	if _, err := pool.Exec(ctx, `DELETE FROM appeal_events`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("delete appeal_events: %v", err)
	}
	// Metrics: each counted once, whatever the retries.
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"appeals_opened_total", nil, 1},
		{"appeals_decided_total", []string{"upheld"}, 1},
		{"appeal_deadlines_missed_total", nil, 1},
		{"appeal_decision_working_seconds", nil, 1},
	} {
		if got := sample(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestRecordAppealWithdrawnAndInvalid_R6(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, nil)
	insertResult(t, pool, "2026-09", "agent1", "team-a", "53.5", "failing", "published")
	st := appealState(1)
	st.Status = workflows.AppealWithdrawn
	st.Events = append(st.Events, workflows.Event{Seq: 2, Type: "withdrawn", ActorID: "agent1", At: st.Events[0].At.Add(time.Hour)})
	if err := a.RecordAppeal(ctx, workflows.AppealRecord{State: st}); err != nil { // no month: taken from the result
		t.Fatal(err)
	}
	ap, err := a.Q.GetAppealRow(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Status != "withdrawn" || ap.DecidedAt == nil || !ap.DecidedAt.Equal(st.Events[1].At) || *ap.DecidedBy != "agent1" ||
		ap.Month != "2026-09" || ap.CorrectedScore.Valid {
		t.Errorf("withdrawn appeal = %+v", ap)
	}
	if got := sample(t, reg, "appeals_decided_total", "withdrawn"); got != 1 {
		t.Errorf("withdrawn counted %v times", got)
	}
	if got := sample(t, reg, "appeal_decision_working_seconds"); got != 0 {
		t.Errorf("a withdrawal is not a decision: %v observations", got)
	}
	res, _ := a.Q.GetAssessment(ctx, "2026-09_agent1")
	if res.CorrectedAt != nil || tenths(t, res.Score) != "53.5" {
		t.Errorf("a withdrawal changed the result: %+v", res)
	}

	bad := appealState(4) // upheld without a corrected score
	bad.CorrectedScore = nil
	for _, rec := range []workflows.AppealRecord{
		{State: bad},
		{State: workflows.AppealState{ID: "x", AssessmentID: "2026-09_agent1", AppellantID: "agent1", Stage: 1, Status: "open", DueAt: sep(1, 0)}},
		{State: appealState(1), Decision: &workflows.DecideAppealInput{Actor: "hr1", Outcome: workflows.AppealUpheld}},
	} {
		err := a.RecordAppeal(ctx, rec)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !appErr.NonRetryable() {
			t.Errorf("%+v: err = %v, want non-retryable", rec.State.ID, err)
		}
	}
}

func TestRecordCycleStatusOnlyMovesForward_R4_5(t *testing.T) {
	a, _ := setup(t)
	ctx := context.Background()
	pub := sep(1, 2)
	ends := sep(4, 0)
	stars := []workflows.ServiceStar{{AssessmentID: "2026-08_agent1", EmployeeID: "agent1", TeamID: "team-a", Score: 950}}
	for _, rec := range []workflows.CycleRecord{
		{Month: "2026-08", Status: workflows.CycleComputing, StartedBy: "hr1"},
		{Month: "2026-08", Status: workflows.CyclePublished, StartedBy: "hr1", PublishedAt: &pub, WindowEndsAt: &ends, ResultsCount: 3, OpenAppeals: 1},
		{Month: "2026-08", Status: workflows.CycleFinal, StartedBy: "hr1", FinalizedAt: &ends, ResultsCount: 3, ServiceStars: stars},
		{Month: "2026-08", Status: workflows.CyclePublished, StartedBy: "hr1", ResultsCount: 3, OpenAppeals: 1}, // late, older
	} {
		if err := a.RecordCycle(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	c, err := a.Q.GetCycle(ctx, "2026-08")
	if err != nil {
		t.Fatal(err)
	}
	var got []workflows.ServiceStar
	_ = json.Unmarshal(c.ServiceStars, &got)
	if c.Status != "final" || c.PublishedAt == nil || !c.PublishedAt.Equal(pub) || c.FinalizedAt == nil || c.OpenAppeals != 0 ||
		!reflect.DeepEqual(got, stars) {
		t.Errorf("cycle = %+v stars %+v", c, got)
	}
	if err := a.RecordCycle(ctx, workflows.CycleRecord{Month: "2026-08", Status: "done"}); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestWorkingTimeSkipsHolidays_R2(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	cal := calendar.New(loc, nil)
	for _, c := range []struct {
		from, to time.Time
		want     float64
	}{
		// Wed Sep 30 10:00 -> Thu Oct 8 10:00: 14 h on Sep 30, Oct 1-7 are 国庆节, 10 h on Oct 8.
		{time.Date(2026, 9, 30, 10, 0, 0, 0, loc), time.Date(2026, 10, 8, 10, 0, 0, 0, loc), 24},
		// Fri Sep 25 18:00 -> Mon Sep 28 09:00: Sep 25-27 are 中秋节, 9 h on Monday.
		{time.Date(2026, 9, 25, 18, 0, 0, 0, loc), time.Date(2026, 9, 28, 9, 0, 0, 0, loc), 9},
		// Sat Sep 19 12:00 -> Mon Sep 21 06:00: Sunday Sep 20 is an adjusted working day (调休): 24 h + 6 h.
		{time.Date(2026, 9, 19, 12, 0, 0, 0, loc), time.Date(2026, 9, 21, 6, 0, 0, 0, loc), 30},
		{time.Date(2026, 9, 28, 9, 0, 0, 0, loc), time.Date(2026, 9, 28, 9, 0, 0, 0, loc), 0},
	} {
		if got := workingTime(cal, c.from, c.to).Hours(); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%v -> %v: %v h, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestNotifyAppealLogsAndNeedsKey_R6_R7(t *testing.T) {
	var buf bytes.Buffer
	a := &Activities{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	n := workflows.AppealNotice{Key: "appeal_2026-09_agent1/reminder/2", Kind: "reminder", AppealID: "appeal_2026-09_agent1",
		Recipients: []string{"hr"}, DueAt: sep(30, 0), At: sep(29, 0)}
	if err := a.NotifyAppeal(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["appeal_id"] != n.AppealID || line["key"] != n.Key || line["kind"] != "reminder" {
		t.Errorf("log line = %s", buf.String())
	}
	n.Key = ""
	var appErr *temporal.ApplicationError
	if err := a.NotifyAppeal(context.Background(), n); !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Errorf("no key: err = %v", err)
	}
}
