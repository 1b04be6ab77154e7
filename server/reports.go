package server

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/scoring"
	"github.com/acme/aftersales/workflows"
)

// The R7 reports: monthly timeliness, CSI ranking and trend per agent and
// team, appeal outcomes, pending approvals. Each reads the read models
// (never a workflow), narrowed to the caller's rows (Rows, lists.go), and
// holds no personal data of customers (R7): complaints are counted, never
// listed.

// rate is R3's rate: part / whole x 100, one decimal half-up (the
// rounding of scoring); nil when whole is 0 (no data, as R4.4 says of an
// indicator).
func rate(part, whole int32) *scoring.Tenths {
	if whole == 0 {
		return nil
	}
	v := scoring.RoundHalfUp(big.NewRat(100*int64(part), int64(whole)))
	return &v
}

// average is a team's score: the mean of its members' one-decimal scores,
// rounded once, half-up (R4.4's rounding). total is their exact sum.
func average(total pgtype.Numeric, members int32) (scoring.Tenths, error) {
	sum, ok := db.TenthsOf(total)
	if !ok || members <= 0 {
		return 0, fmt.Errorf("average of %d members: no total", members)
	}
	return scoring.RoundHalfUp(big.NewRat(int64(sum), 10*int64(members))), nil
}

// clockCounts is where one clock of a set of complaints stands (R3;
// clock_standing, migration 00012).
type clockCounts struct {
	OnTime  int32 `json:"on_time"` // met before its deadline
	Late    int32 `json:"late"`    // met at or after it
	Overdue int32 `json:"overdue"` // still open past it
	Open    int32 `json:"open"`    // still open, not yet due (or paused)
}

func (c *clockCounts) add(o clockCounts) {
	c.OnTime, c.Late, c.Overdue, c.Open = c.OnTime+o.OnTime, c.Late+o.Late, c.Overdue+o.Overdue, c.Open+o.Open
}

// timeliness is the counts of a set of complaints received in a month.
type timeliness struct {
	Received   int32       `json:"received"`
	Contact    clockCounts `json:"contact"`
	Plan       clockCounts `json:"plan"`
	Resolution clockCounts `json:"resolution"`
	// Timely: resolved with all three clocks met on time; untimely: a clock
	// missed; pending: neither yet (R3).
	Timely   int32 `json:"timely"`
	Untimely int32 `json:"untimely"`
	Pending  int32 `json:"pending"`
	// OnTimeRate is R3's complaint timeliness rate, timely / (timely +
	// untimely) x 100 as the assessment counts it (R4.3); null when none
	// is decided yet.
	OnTimeRate *scoring.Tenths `json:"on_time_rate"`
}

func (t *timeliness) add(o timeliness) {
	t.Received += o.Received
	t.Contact.add(o.Contact)
	t.Plan.add(o.Plan)
	t.Resolution.add(o.Resolution)
	t.Timely, t.Untimely, t.Pending = t.Timely+o.Timely, t.Untimely+o.Untimely, t.Pending+o.Pending
	t.OnTimeRate = rate(t.Timely, t.Timely+t.Untimely)
}

type agentTimeliness struct {
	AgentID string `json:"agent_id"`
	TeamID  string `json:"team_id"` // the agent's team now ("" for none)
	timeliness
}

type teamTimeliness struct {
	TeamID string `json:"team_id"`
	Agents int    `json:"agents"` // agents with complaints received in the month
	timeliness
}

type timelinessReport struct {
	Month  string            `json:"month"`
	AsOf   time.Time         `json:"as_of"`
	Agents []agentTimeliness `json:"agents"`
	Teams  []teamTimeliness  `json:"teams"`
}

// GET /api/v1/reports/timeliness?month=YYYY-MM (performanceRows): the
// complaints received in the month, per agent and per team: where each
// clock stands now and how many complaints were timely (R3, R7). "On
// time" is the assessment's own judgement (clock_standing and
// complaint_first_miss, migration 00012); the assessment counts a
// complaint in the month of its first miss or resolution (R4.0), this
// report in the month it was received, so their monthly figures differ.
func (s *Server) timelinessReport(w http.ResponseWriter, r *http.Request) error {
	errs := fieldErrors{}
	m, _ := s.monthParam(r.URL.Query(), "month", true, errs)
	if err := errs.err(); err != nil {
		return err
	}
	sc := performanceRows.of(principal(r))
	now := time.Now()
	rows, err := s.q.TimelinessByAgent(r.Context(), db.TimelinessByAgentParams{
		MonthStart: m.start, MonthEnd: m.end, AsOf: now, ScopeTeams: sc.teams, ScopeSelf: sc.self,
	})
	if err != nil {
		return err
	}
	out := timelinessReport{Month: m.name, AsOf: shownTime(now, s.loc), Agents: []agentTimeliness{}, Teams: []teamTimeliness{}}
	teams := map[string]*teamTimeliness{}
	for _, row := range rows {
		a := agentTimeliness{AgentID: row.AgentID, TeamID: row.TeamID, timeliness: timeliness{
			Received:   row.Received,
			Contact:    clockCounts{row.ContactOnTime, row.ContactLate, row.ContactOverdue, row.ContactOpen},
			Plan:       clockCounts{row.PlanOnTime, row.PlanLate, row.PlanOverdue, row.PlanOpen},
			Resolution: clockCounts{row.ResolutionOnTime, row.ResolutionLate, row.ResolutionOverdue, row.ResolutionOpen},
			Timely:     row.Timely, Untimely: row.Untimely, Pending: row.Received - row.Timely - row.Untimely,
		}}
		a.OnTimeRate = rate(a.Timely, a.Timely+a.Untimely)
		out.Agents = append(out.Agents, a)
		// A team's total only where the caller sees all of it.
		if sc.wholeTeam(row.TeamID) {
			t := teams[row.TeamID]
			if t == nil {
				t = &teamTimeliness{TeamID: row.TeamID}
				teams[row.TeamID] = t
			}
			t.Agents++
			t.add(a.timeliness)
		}
	}
	for _, t := range teams {
		out.Teams = append(out.Teams, *t)
	}
	slices.SortFunc(out.Teams, func(a, b teamTimeliness) int { return cmp.Compare(a.TeamID, b.TeamID) })
	writeJSON(w, http.StatusOK, out)
	return nil
}

// csiAgent is one result of the month's ranking.
type csiAgent struct {
	EmployeeID string         `json:"employee_id"`
	TeamID     string         `json:"team_id"` // the team of the result ("" for none)
	Score      scoring.Tenths `json:"score"`
	Band       string         `json:"band"`
	Status     string         `json:"status"`    // published or final (R4.5)
	Rank       int32          `json:"rank"`      // among everyone assessed that month
	TeamRank   int32          `json:"team_rank"` // within the team
}

// csiTeam is one team of the month's ranking: the average of its members.
type csiTeam struct {
	TeamID  string         `json:"team_id"`
	Average scoring.Tenths `json:"average"`
	Band    scoring.Band   `json:"band"` // of the average (R4.4's bands)
	Members int32          `json:"members"`
	Rank    int32          `json:"rank"` // among every team assessed that month
}

type csiPoint struct {
	Month string          `json:"month"`
	Score *scoring.Tenths `json:"score"` // null: no result that month
	Band  *string         `json:"band"`
}

type csiAgentTrend struct {
	EmployeeID string     `json:"employee_id"`
	TeamID     string     `json:"team_id"` // the team of the latest result
	Points     []csiPoint `json:"points"`
}

type csiTeamPoint struct {
	Month   string          `json:"month"`
	Average *scoring.Tenths `json:"average"` // null: no result that month
	Members int32           `json:"members"`
}

type csiTeamTrend struct {
	TeamID string         `json:"team_id"`
	Points []csiTeamPoint `json:"points"`
}

type csiReport struct {
	Month       string     `json:"month"`
	Ranked      int32      `json:"ranked"`       // employees with a result that month
	TeamsRanked int32      `json:"teams_ranked"` // teams with a result that month
	Agents      []csiAgent `json:"agents"`
	Teams       []csiTeam  `json:"teams"`
	Trend       struct {
		Months []string        `json:"months"` // the 12 months ending with month
		Agents []csiAgentTrend `json:"agents"`
		Teams  []csiTeamTrend  `json:"teams"`
	} `json:"trend"`
}

// trendMonths is how many months a CSI trend shows, ending with the month asked.
const trendMonths = 12

// GET /api/v1/reports/csi?month=YYYY-MM (performanceRows): the month's CSI
// ranking per agent and per team, and each one's trend over the 12 months
// ending with it (R4.4, R7). From the published and final results
// (corrected scores included, R6); ranks are among everyone (every team),
// whatever part of it the caller sees.
func (s *Server) csiReport(w http.ResponseWriter, r *http.Request) error {
	errs := fieldErrors{}
	m, _ := s.monthParam(r.URL.Query(), "month", true, errs)
	if err := errs.err(); err != nil {
		return err
	}
	ctx, sc := r.Context(), performanceRows.of(principal(r))
	out := csiReport{Month: m.name, Agents: []csiAgent{}, Teams: []csiTeam{}}
	ranking, err := s.q.CSIRanking(ctx, db.CSIRankingParams{Month: m.name, ScopeTeams: sc.teams, ScopeSelf: sc.self})
	if err != nil {
		return err
	}
	for _, row := range ranking {
		score, ok := db.TenthsOf(row.Score)
		if !ok {
			return fmt.Errorf("csi report: no score for %s", row.EmployeeID)
		}
		out.Ranked = row.Ranked
		out.Agents = append(out.Agents, csiAgent{EmployeeID: row.EmployeeID, TeamID: row.TeamID, Score: score, Band: row.Band,
			Status: row.Status, Rank: row.Rank, TeamRank: row.TeamRank})
	}
	teams, err := s.q.CSITeamRanking(ctx, db.CSITeamRankingParams{Month: m.name, ScopeTeams: sc.teams})
	if err != nil {
		return err
	}
	for _, row := range teams {
		avg, err := average(row.Total, row.Members)
		if err != nil {
			return fmt.Errorf("csi report: team %s: %w", row.TeamID, err)
		}
		out.TeamsRanked = row.Ranked
		out.Teams = append(out.Teams, csiTeam{TeamID: row.TeamID, Average: avg, Band: scoring.BandOf(avg), Members: row.Members, Rank: row.Rank})
	}
	if err := s.csiTrend(ctx, sc, m, &out); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// csiTrend fills out.Trend: every month of the 12 ending with m, null
// where there was no result, for each agent and team in scope with a
// result in any of them.
func (s *Server) csiTrend(ctx context.Context, sc rowScope, m monthSpan, out *csiReport) error {
	months := make([]string, trendMonths)
	index := map[string]int{}
	for i := range trendMonths {
		months[i] = m.start.AddDate(0, i-trendMonths+1, 0).Format("2006-01")
		index[months[i]] = i
	}
	out.Trend.Months = months
	out.Trend.Agents, out.Trend.Teams = []csiAgentTrend{}, []csiTeamTrend{}
	rows, err := s.q.CSITrend(ctx, db.CSITrendParams{FromMonth: months[0], ToMonth: months[trendMonths-1], ScopeTeams: sc.teams, ScopeSelf: sc.self})
	if err != nil {
		return err
	}
	for _, row := range rows { // by employee, then month
		n := len(out.Trend.Agents)
		if n == 0 || out.Trend.Agents[n-1].EmployeeID != row.EmployeeID {
			pts := make([]csiPoint, trendMonths)
			for i, mo := range months {
				pts[i] = csiPoint{Month: mo}
			}
			out.Trend.Agents = append(out.Trend.Agents, csiAgentTrend{EmployeeID: row.EmployeeID, Points: pts})
			n++
		}
		a := &out.Trend.Agents[n-1]
		a.TeamID = row.TeamID
		score, band := optTenths(row.Score), row.Band
		a.Points[index[row.Month]].Score, a.Points[index[row.Month]].Band = score, &band
	}
	teams, err := s.q.CSITeamTrend(ctx, db.CSITeamTrendParams{FromMonth: months[0], ToMonth: months[trendMonths-1], ScopeTeams: sc.teams})
	if err != nil {
		return err
	}
	for _, row := range teams { // by team, then month
		n := len(out.Trend.Teams)
		if n == 0 || out.Trend.Teams[n-1].TeamID != row.TeamID {
			pts := make([]csiTeamPoint, trendMonths)
			for i, mo := range months {
				pts[i] = csiTeamPoint{Month: mo}
			}
			out.Trend.Teams = append(out.Trend.Teams, csiTeamTrend{TeamID: row.TeamID, Points: pts})
			n++
		}
		avg, err := average(row.Total, row.Members)
		if err != nil {
			return fmt.Errorf("csi trend: team %s %s: %w", row.TeamID, row.Month, err)
		}
		p := &out.Trend.Teams[n-1].Points[index[row.Month]]
		p.Average, p.Members = &avg, row.Members
	}
	return nil
}

// appealOutcomes counts the appeals against one month's results.
type appealOutcomes struct {
	Opened    int32 `json:"opened"`
	Withdrawn int32 `json:"withdrawn"` // the explanation accepted in stage 1
	Upheld    int32 `json:"upheld"`
	Rejected  int32 `json:"rejected"`
	Open      int32 `json:"open"`   // not decided yet
	Stage2    int32 `json:"stage2"` // reached stage 2 (HR, or the skip-level manager)
	// DeadlineMissed: stage 2 not answered within its 5 working days,
	// escalated to the head of HR (R6).
	DeadlineMissed int32 `json:"deadline_missed"`
}

func (a *appealOutcomes) add(o appealOutcomes) {
	a.Opened, a.Withdrawn, a.Upheld, a.Rejected = a.Opened+o.Opened, a.Withdrawn+o.Withdrawn, a.Upheld+o.Upheld, a.Rejected+o.Rejected
	a.Open, a.Stage2, a.DeadlineMissed = a.Open+o.Open, a.Stage2+o.Stage2, a.DeadlineMissed+o.DeadlineMissed
}

type appealMonth struct {
	Month string `json:"month"`
	appealOutcomes
}

type appealsReport struct {
	From   string         `json:"from"`
	To     string         `json:"to"`
	Months []appealMonth  `json:"months"` // every month of the range, oldest first
	Total  appealOutcomes `json:"total"`
}

// maxReportMonths bounds a report's range of months.
const maxReportMonths = 36

// GET /api/v1/reports/appeals?from=YYYY-MM&to=YYYY-MM (oversightRows):
// appeal outcomes per month of the results appealed against (R6, R7).
func (s *Server) appealsReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	from, okFrom := s.monthParam(q, "from", true, errs)
	to, okTo := s.monthParam(q, "to", true, errs)
	if okFrom && okTo {
		switch {
		case to.start.Before(from.start):
			errs.add("to", "must not be before from")
		case !to.start.Before(from.start.AddDate(0, maxReportMonths, 0)):
			errs.add("to", fmt.Sprintf("at most %d months after from", maxReportMonths-1))
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	sc := oversightRows.of(principal(r))
	rows, err := s.q.AppealOutcomes(r.Context(), db.AppealOutcomesParams{FromMonth: from.name, ToMonth: to.name,
		ScopeTeams: sc.teams, ScopeSelf: sc.self})
	if err != nil {
		return err
	}
	byMonth := map[string]appealOutcomes{}
	for _, row := range rows {
		byMonth[row.Month] = appealOutcomes{Opened: row.Opened, Withdrawn: row.Withdrawn, Upheld: row.Upheld, Rejected: row.Rejected,
			Open: row.StillOpen, Stage2: row.Stage2, DeadlineMissed: row.DeadlineMissed}
	}
	out := appealsReport{From: from.name, To: to.name, Months: []appealMonth{}}
	for mo := from.start; !mo.After(to.start); mo = mo.AddDate(0, 1, 0) {
		name := mo.Format("2006-01")
		out.Months = append(out.Months, appealMonth{Month: name, appealOutcomes: byMonth[name]})
		out.Total.add(byMonth[name])
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pendingApproval is one reward waiting at a step of its chain (R5.3).
type pendingApproval struct {
	NominationNo string               `json:"nomination_no"`
	NomineeID    string               `json:"nominee_id"`
	TeamID       string               `json:"team_id"` // the nominee's team now ("" for none)
	NominatorID  string               `json:"nominator_id"`
	Kind         workflows.RewardKind `json:"kind"`
	AmountFen    int64                `json:"amount_fen"`
	Status       string               `json:"status"`
	Step         string               `json:"step"`
	Awaiting     []string             `json:"awaiting"` // who may act now, as GET /rewards/{no} says
	Round        int32                `json:"round"`
	// Since is when the step (of this round) began; AgeSeconds counts from it.
	Since      time.Time  `json:"since"`
	AgeSeconds int64      `json:"age_seconds"`
	DueAt      *time.Time `json:"due_at"`
	Overdue    bool       `json:"overdue"`
}

// stepCount counts the pending approvals of one step.
type stepCount struct {
	Step             string    `json:"step"`
	Pending          int32     `json:"pending"`
	Overdue          int32     `json:"overdue"`
	OldestSince      time.Time `json:"oldest_since"`
	OldestAgeSeconds int64     `json:"oldest_age_seconds"`
}

type approvalsReport struct {
	AsOf  time.Time   `json:"as_of"`
	Steps []stepCount `json:"steps"` // in the chain's order; steps with none are left out
	listResponse[pendingApproval]
}

type approvalCursor struct {
	Since time.Time `json:"s"`
	No    string    `json:"n"`
}

// GET /api/v1/reports/approvals (oversightRows): the rewards waiting at a
// step (R5.3), the longest-waiting first, with who may act and how long
// the step has waited, and a count per step (R7). Paged like the lists;
// the counts are of all of them.
func (s *Server) approvalsReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.PendingApprovalsParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("step"); v != "" {
		if !slices.Contains(rewardSteps, workflows.Step(v)) {
			errs.add("step", "must be a step: manager, hr, committee or payout")
		}
		p.Step = &v
	}
	var cur approvalCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterSince, p.AfterNo = &cur.Since, &cur.No
	}
	if err := errs.err(); err != nil {
		return err
	}
	ctx, sc, now := r.Context(), oversightRows.of(principal(r)), time.Now()
	p.ScopeTeams, p.ScopeSelf, p.AsOf = sc.teams, sc.self, now
	steps, err := s.q.PendingApprovalsPerStep(ctx, db.PendingApprovalsPerStepParams{AsOf: now, Step: p.Step,
		ScopeTeams: sc.teams, ScopeSelf: sc.self})
	if err != nil {
		return err
	}
	rows, err := s.q.PendingApprovals(ctx, p)
	if err != nil {
		return err
	}
	out := approvalsReport{AsOf: shownTime(now, s.loc), Steps: []stepCount{}}
	for _, st := range steps {
		out.Steps = append(out.Steps, stepCount{Step: st.Step, Pending: st.Pending, Overdue: st.Overdue,
			OldestSince: shownTime(st.OldestSince, s.loc), OldestAgeSeconds: int64(now.Sub(st.OldestSince) / time.Second)})
	}
	// awaiting completed per reward as GET /rewards does, the role holders looked up once
	cache, awaiting := roleHolders{}, make(map[string][]string, len(rows))
	for _, row := range rows {
		st := workflows.RewardState{StepRole: row.StepRole, Awaiting: row.Awaiting, Excluded: row.Excluded}
		if err := s.finishReward(ctx, &st, cache); err != nil {
			return err
		}
		awaiting[row.NominationNo] = st.Awaiting
	}
	out.listResponse = paginate(rows, pg.limit,
		func(row db.PendingApprovalsRow) any { return approvalCursor{Since: row.Since, No: row.NominationNo} },
		func(row db.PendingApprovalsRow) pendingApproval {
			return pendingApproval{
				NominationNo: row.NominationNo, NomineeID: row.NomineeID, TeamID: row.TeamID, NominatorID: row.NominatorID,
				Kind: workflows.RewardKind(row.Kind), AmountFen: row.AmountFen, Status: row.Status, Step: row.Step,
				Awaiting: awaiting[row.NominationNo], Round: row.Round, Since: shownTime(row.Since, s.loc),
				AgeSeconds: int64(now.Sub(row.Since) / time.Second), DueAt: localTime(row.DueAt, s.loc), Overdue: row.Overdue,
			}
		})
	writeJSON(w, http.StatusOK, out)
	return nil
}
