package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/scoring"
	"github.com/acme/aftersales/workflows"
)

// The activities of the monthly assessment (R4) and of appeals (R6), called
// by the AssessmentCycle and Appeal workflows by the names of
// workflows/assessment_contract.go. Each is idempotent: a retry, or a rerun
// of the same month, leaves the same rows.

// probationMonths is R4.4's "three months of probation".
const probationMonths = 3

// Error types of the assessment activities' non-retryable failures.
const (
	errInvalidCycle  = "InvalidCycleInput"
	errInvalidAppeal = "InvalidAppealRecord"
)

func invalid(kind, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), kind, nil)
}

// zone is the input's zone (workflows.Zone: no default).
func zone(name string) (*time.Location, error) { return workflows.Zone(name) }

// monthPeriod is the month "YYYY-MM" as the instants [start, end) in loc (R4.0).
func monthPeriod(month string, loc *time.Location) (start, end time.Time, err error) {
	t, err := time.Parse("2006-01", month)
	if err != nil || t.Format("2006-01") != month {
		return start, end, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 1, 0), nil
}

// addMonths returns the month "YYYY-MM" n months after month (n may be negative).
func addMonths(month string, n int) string {
	t, _ := time.Parse("2006-01", month)
	return t.AddDate(0, n, 0).Format("2006-01")
}

// ComputeResults computes and publishes the month's results (R4.0-R4.4):
// for every employee with data in the month (in.Location's zone, default
// Asia/Shanghai) it gathers surveys by surveyed_at (the survey's employee),
// work orders by completed_at (the technician; first-time fix flag, R4.2),
// complaints by the due_at of their first missed clock or else their
// resolution (the assignee; timely when no clock was missed, R3/R4.3) and
// confirmed deductions by occurred_at, scores them (package scoring) and
// upserts one published result per employee, in one transaction with the
// cycle row (created as computing; RecordCycle sets later statuses).
//
// It holds the month's lock exclusively (db/queries/lateentries.sql), so it
// counts every entry whose transaction ended before it began (R4.0).
//
// A result already final or corrected by an upheld appeal (R6) is kept as it
// is; an employee with deductions but no indicator data gets no result
// (R4.4). The answer lists every result of the month by employee id, with
// the employee's manager (the team supervisor, else the department head)
// and department head for appeals (R6).
func (a *Activities) ComputeResults(ctx context.Context, in workflows.CycleInput) (workflows.ComputeResultsOutput, error) {
	var out workflows.ComputeResultsOutput
	loc, err := zone(in.Location)
	if err != nil {
		return out, invalid(errInvalidCycle, "location %q: %v", in.Location, err)
	}
	start, end, err := monthPeriod(in.Month, loc)
	if err != nil {
		return out, invalid(errInvalidCycle, "%v", err)
	}
	startedBy := in.StartedBy
	if startedBy == "" {
		startedBy = workflows.SystemActor
	}
	asOf := time.Now() // a clock is missed once its deadline has passed (R3)

	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// The month's lock, exclusively (R4.0, db/queries/lateentries.sql):
		// this waits for the transactions of the month's entries in flight,
		// and their cycle's late-entry updates wait for this run, so every
		// entry committed before the lock is read below.
		if err := q.LockMonthForCompute(ctx, in.Month); err != nil {
			return fmt.Errorf("lock %s: %w", in.Month, err)
		}
		months, err := gatherMonth(ctx, q, start, end, asOf)
		if err != nil {
			return err
		}
		ids := slices.Sorted(maps.Keys(months))
		placements, err := placementsOf(ctx, q, ids)
		if err != nil {
			return err
		}
		if err := q.EnsureCycle(ctx, db.EnsureCycleParams{
			Month: in.Month, StartedBy: startedBy, PeriodStart: &start, PeriodEnd: &end,
		}); err != nil {
			return fmt.Errorf("ensure cycle %s: %w", in.Month, err)
		}
		for _, id := range ids {
			m := months[id]
			res, err := scoring.Score(*m)
			if err != nil {
				return invalid(errInvalidCycle, "score %s of %s: %v", id, in.Month, err)
			}
			if res == nil {
				continue // R4.4: no data in any indicator, no result
			}
			var team *string
			if t := placements[id].TeamID; t != "" {
				team = &t
			}
			if _, err := q.UpsertAssessment(ctx, db.UpsertAssessmentParams{
				ID: workflows.AssessmentID(in.Month, id), Month: in.Month, EmployeeID: id, TeamID: team,
				Surveys: int32(len(m.Surveys)), WorkOrders: int32(m.WorkOrders), FirstTimeFixes: int32(m.FirstTimeFixes),
				Complaints: int32(m.Complaints), TimelyComplaints: int32(m.TimelyComplaints),
				Csat: db.OptNumeric(res.CSAT), Ftfr: db.OptNumeric(res.FTFR), Timeliness: db.OptNumeric(res.Timeliness),
				DeductionPoints: int32(res.DeductionPoints), DeductionCount: int32(res.DeductionCount),
				Score: db.Numeric(res.Score), Band: string(res.Band), SeriousWarning: res.SeriousWarning,
			}); err != nil {
				return fmt.Errorf("upsert result %s of %s: %w", id, in.Month, err)
			}
		}

		rows, err := q.ListMonthResults(ctx, in.Month)
		if err != nil {
			return err
		}
		if err := q.SetCycleResultsCount(ctx, db.SetCycleResultsCountParams{Month: in.Month, ResultsCount: int32(len(rows))}); err != nil {
			return err
		}
		var rowIDs []string
		for _, r := range rows {
			rowIDs = append(rowIDs, r.EmployeeID)
		}
		if placements, err = placementsOf(ctx, q, rowIDs); err != nil {
			return err
		}
		out.Results = make([]workflows.ResultRef, 0, len(rows))
		for _, r := range rows {
			score, _ := db.TenthsOf(r.Score)
			p := placements[r.EmployeeID]
			manager := p.ManagerID
			if manager == "" {
				manager = p.HeadID // R1: a department head manages every team of the department
			}
			out.Results = append(out.Results, workflows.ResultRef{
				AssessmentID: r.ID, EmployeeID: r.EmployeeID, TeamID: r.TeamID, ManagerID: manager, HeadID: p.HeadID,
				Score: score, Band: r.Band, Deductions: int(r.DeductionCount),
			})
		}
		return nil
	})
	if err != nil {
		return workflows.ComputeResultsOutput{}, err
	}
	return out, nil
}

// gatherMonth collects every employee's items of the month [start, end) by
// the rules of R4.0.
func gatherMonth(ctx context.Context, q *db.Queries, start, end, asOf time.Time) (map[string]*scoring.Month, error) {
	months := map[string]*scoring.Month{}
	get := func(id string) *scoring.Month {
		if months[id] == nil {
			months[id] = &scoring.Month{}
		}
		return months[id]
	}
	surveys, err := q.MonthSurveys(ctx, db.MonthSurveysParams{MonthStart: start, MonthEnd: end})
	if err != nil {
		return nil, fmt.Errorf("month surveys: %w", err)
	}
	for _, s := range surveys {
		m := get(s.EmployeeID)
		m.Surveys = append(m.Surveys, scoring.Ratings{Attitude: int(s.Attitude), Speed: int(s.Speed),
			Quality: int(s.Quality), Parts: int(s.Parts), Cost: int(s.Cost)})
	}
	orders, err := q.MonthWorkOrders(ctx, db.MonthWorkOrdersParams{MonthStart: start, MonthEnd: end})
	if err != nil {
		return nil, fmt.Errorf("month work orders: %w", err)
	}
	for _, w := range orders {
		m := get(w.TechnicianID)
		m.WorkOrders, m.FirstTimeFixes = int(w.WorkOrders), int(w.FirstTimeFixes)
	}
	complaints, err := q.MonthComplaints(ctx, db.MonthComplaintsParams{MonthStart: start, MonthEnd: end, AsOf: asOf})
	if err != nil {
		return nil, fmt.Errorf("month complaints: %w", err)
	}
	for _, c := range complaints {
		m := get(c.AssigneeID)
		m.Complaints, m.TimelyComplaints = int(c.Complaints), int(c.Timely)
	}
	deductions, err := q.MonthConfirmedDeductions(ctx, db.MonthConfirmedDeductionsParams{MonthStart: start, MonthEnd: end})
	if err != nil {
		return nil, fmt.Errorf("month deductions: %w", err)
	}
	for _, d := range deductions {
		m := get(d.EmployeeID)
		m.Deductions = append(m.Deductions, int(d.Points))
	}
	return months, nil
}

func placementsOf(ctx context.Context, q *db.Queries, ids []string) (map[string]db.ListUserPlacementsRow, error) {
	out := map[string]db.ListUserPlacementsRow{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.ListUserPlacements(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("user placements: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// cycleStatuses are the cycle's statuses in the only order they move.
var cycleStatuses = []workflows.CycleStatus{workflows.CycleComputing, workflows.CyclePublished, workflows.CycleClosing, workflows.CycleFinal}

// RecordCycle writes the cycle's state (R4.5) to PostgreSQL. The status
// only moves forward, so a retried older record never takes a cycle back;
// times once set are kept.
func (a *Activities) RecordCycle(ctx context.Context, rec workflows.CycleRecord) error {
	return writeOrRefuse(ctx, a, "cycle", rec, a.recordCycle)
}

func (a *Activities) recordCycle(ctx context.Context, rec workflows.CycleRecord) error {
	if _, _, err := monthPeriod(rec.Month, time.UTC); err != nil {
		return invalid(errInvalidCycle, "%v", err)
	}
	if !slices.Contains(cycleStatuses, rec.Status) {
		return invalid(errInvalidCycle, "cycle status %q", rec.Status)
	}
	stars := rec.ServiceStars
	if stars == nil {
		stars = []workflows.ServiceStar{}
	}
	starsJSON, err := json.Marshal(stars)
	if err != nil {
		return invalid(errInvalidCycle, "service stars: %v", err)
	}
	startedBy := rec.StartedBy
	if startedBy == "" {
		startedBy = workflows.SystemActor
	}
	return a.Q.UpsertCycle(ctx, db.UpsertCycleParams{
		Month: rec.Month, Status: string(rec.Status), PublishedAt: rec.PublishedAt, WindowEndsAt: rec.WindowEndsAt,
		FinalizedAt: rec.FinalizedAt, ResultsCount: int32(rec.ResultsCount), OpenAppeals: int32(rec.OpenAppeals),
		StartedBy: startedBy, ServiceStars: starsJSON,
	})
}

// FinalizeCycle makes the month's results final (R4.5), in one transaction:
//   - every result of the month becomes final (the cycle calls it once the
//     month's appeals have ended, R4.5, R6);
//   - R4.4 probation: an employee whose final score is 0 this month and was
//     0 in the previous month's final results gets three months of
//     probation from the next month (one probation row, keyed by employee
//     and first month) and probation = true on this month's result;
//   - R5.2 CSI service stars: per team, the employees with the team's top
//     score of the month (every one of them when tied), each only when that
//     score is at least 90 and they have no confirmed deduction occurring in
//     the month (as the deductions stand now). They are returned for the
//     cycle to nominate; nothing else is written for them here.
//
// Idempotent: a rerun finds the same rows and returns the same answer.
func (a *Activities) FinalizeCycle(ctx context.Context, in workflows.FinalizeInput) (workflows.FinalizeOutput, error) {
	var out workflows.FinalizeOutput
	loc, err := zone(in.Location)
	if err != nil {
		return out, invalid(errInvalidCycle, "location %q: %v", in.Location, err)
	}
	// R5.2's threshold of a CSI service star, from the cycle's policy.
	policy := in.Policy
	if policy.StarMinScore == 0 {
		policy = workflows.DefaultAssessmentPolicy()
	}
	starMinScore := policy.StarMinScore
	start, end, err := monthPeriod(in.Month, loc)
	if err != nil {
		return out, invalid(errInvalidCycle, "%v", err)
	}
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// The month's own period, as ComputeResults counted it (its zone).
		if c, err := q.GetCycle(ctx, in.Month); err == nil && c.PeriodStart != nil && c.PeriodEnd != nil {
			start, end = *c.PeriodStart, *c.PeriodEnd
		} else if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := q.FinalizeMonthResults(ctx, in.Month); err != nil {
			return fmt.Errorf("finalize %s: %w", in.Month, err)
		}
		n, err := q.CountMonthResults(ctx, db.CountMonthResultsParams{Month: in.Month, Status: "final"})
		if err != nil {
			return err
		}
		out.Final = int(n)

		// R4.4: score 0 in two consecutive months: three months of probation.
		prev, next := addMonths(in.Month, -1), addMonths(in.Month, 1)
		streaks, err := q.ZeroScoreStreaks(ctx, db.ZeroScoreStreaksParams{PrevMonth: prev, Month: in.Month})
		if err != nil {
			return err
		}
		out.Probation = []string{}
		for _, s := range streaks {
			if _, err := q.InsertProbation(ctx, db.InsertProbationParams{
				EmployeeID: s.EmployeeID, FromMonth: next, Months: probationMonths, AssessmentID: s.ID,
				Reason: fmt.Sprintf("R4.4: score 0 in %s and %s", prev, in.Month),
			}); err != nil {
				return fmt.Errorf("probation of %s: %w", s.EmployeeID, err)
			}
			if err := q.SetAssessmentProbation(ctx, s.ID); err != nil {
				return err
			}
			out.Probation = append(out.Probation, s.EmployeeID)
		}

		// R5.2: the month's CSI service stars.
		candidates, err := q.StarCandidates(ctx, db.StarCandidatesParams{Month: in.Month, MonthStart: start, MonthEnd: end})
		if err != nil {
			return err
		}
		out.ServiceStars = serviceStars(candidates, starMinScore)
		// ... nominated under the reward policy in force now (issue 12).
		out.RewardPolicy, err = policies.InForce[workflows.RewardPolicy](ctx, q, workflows.PolicyReward, in.At)
		return err
	})
	if err != nil {
		return workflows.FinalizeOutput{}, err
	}
	return out, nil
}

// serviceStars picks R5.2's stars from rows ordered by team, score
// descending, employee: per team, everyone with the team's top score, when
// it is at least minScore and they have no confirmed deduction.
func serviceStars(rows []db.StarCandidatesRow, minScore scoring.Tenths) []workflows.ServiceStar {
	stars := []workflows.ServiceStar{}
	var team string
	var top scoring.Tenths
	for i, r := range rows {
		score, _ := db.TenthsOf(r.Score)
		if i == 0 || r.TeamID != team {
			team, top = r.TeamID, score
		}
		if score == top && score >= minScore && r.ConfirmedDeductions == 0 {
			stars = append(stars, workflows.ServiceStar{AssessmentID: r.ID, EmployeeID: r.EmployeeID, TeamID: r.TeamID, Score: score})
		}
	}
	return stars
}

var appealStatuses = []workflows.AppealStatus{workflows.AppealOpen, workflows.AppealWithdrawn, workflows.AppealUpheld, workflows.AppealRejected}

// RecordAppeal writes an appeal's state change (R6) in one transaction: the
// appeal row (only from a state with a higher event seq than the one
// stored, so an older record never overwrites a newer one), its new events
// (append-only, R7), and on an upheld decision the correction of the
// result: the published score and band kept as the original (the first
// time only), the corrected score and its recomputed band, who corrected
// it, when and why; and one entry in the assessor's record of overturned
// results (the manager of the result's team). A retry changes nothing, and
// the metrics count only what was new.
func (a *Activities) RecordAppeal(ctx context.Context, rec workflows.AppealRecord) error {
	return writeOrRefuse(ctx, a, "appeal", rec, a.recordAppeal)
}

func (a *Activities) recordAppeal(ctx context.Context, rec workflows.AppealRecord) error {
	st := rec.State
	if err := validateAppeal(rec); err != nil {
		return invalid(errInvalidAppeal, "%v", err)
	}
	events := slices.SortedFunc(slices.Values(st.Events), func(x, y workflows.Event) int { return x.Seq - y.Seq })
	lastSeq, openedAt := 0, time.Now()
	if len(events) > 0 {
		lastSeq, openedAt = events[len(events)-1].Seq, events[0].At
	}
	originalScore := st.OriginalScore
	var (
		decidedAt         *time.Time
		decidedBy, reason *string
		corrected         pgtype.Numeric // NULL unless upheld
		correctedScore    scoring.Tenths
	)
	if st.Status != workflows.AppealOpen {
		at := time.Now()
		switch {
		case rec.DecidedAt != nil:
			at = *rec.DecidedAt
		case len(events) > 0:
			at = events[len(events)-1].At
		}
		decidedAt = &at
		if st.Status == workflows.AppealWithdrawn {
			decidedBy = &st.AppellantID // R6: the employee accepted the explanation
		}
	}
	if d := rec.Decision; d != nil {
		decidedBy, reason = &d.Actor, &d.Reason
	}
	if st.Status == workflows.AppealUpheld {
		c := st.CorrectedScore
		if c == nil && rec.Decision != nil {
			c = rec.Decision.CorrectedScore
		}
		if c != nil {
			correctedScore = *c
		}
		if c == nil || correctedScore < 0 || correctedScore > 1000 {
			return invalid(errInvalidAppeal, "appeal %s upheld without a corrected score in 0..100", st.ID)
		}
		corrected = db.Numeric(correctedScore)
	}

	cols, err := columnsOf(bySeq(events))
	if err != nil {
		return invalid(errInvalidAppeal, "%v", err)
	}
	eventRows := db.InsertAppealEventsParams{AppealID: st.ID, Seqs: cols.Seqs, Types: cols.Types,
		ActorIds: cols.ActorIds, Ats: cols.Ats, Reasons: cols.Reasons, Datas: cols.Datas}

	var fresh appealChange
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		month := rec.Month
		if month == "" {
			r, err := q.GetAssessment(ctx, st.AssessmentID)
			if errors.Is(err, pgx.ErrNoRows) {
				return invalid(errInvalidAppeal, "appeal %s: no result %s", st.ID, st.AssessmentID)
			}
			if err != nil {
				return err
			}
			month = r.Month
		}
		n, err := q.InsertAppeal(ctx, db.InsertAppealParams{
			ID: st.ID, AssessmentID: st.AssessmentID, Month: month, AppellantID: st.AppellantID,
			Stage: int32(st.Stage), Status: string(st.Status), DueAt: st.DueAt, EscalatedAt: st.EscalatedAt,
			OpenedAt: openedAt, DecidedAt: decidedAt, DecidedBy: decidedBy, OutcomeReason: reason,
			OriginalScore: db.Numeric(originalScore), CorrectedScore: corrected, LastSeq: int32(lastSeq),
		})
		if err != nil {
			return fmt.Errorf("insert appeal %s: %w", st.ID, err)
		}
		if n == 1 {
			fresh = appealChange{opened: true, ended: st.Status != workflows.AppealOpen, escalated: st.EscalatedAt != nil}
		} else {
			old, err := q.LockAppeal(ctx, st.ID)
			if err != nil {
				return err
			}
			n, err := q.UpdateAppeal(ctx, db.UpdateAppealParams{
				ID: st.ID, Stage: int32(st.Stage), Status: string(st.Status), DueAt: st.DueAt,
				EscalatedAt: st.EscalatedAt, DecidedAt: decidedAt, DecidedBy: decidedBy, OutcomeReason: reason,
				CorrectedScore: corrected, LastSeq: int32(lastSeq),
			})
			if err != nil {
				return fmt.Errorf("update appeal %s: %w", st.ID, err)
			}
			if n == 1 {
				fresh = appealChange{
					ended:     old.Status == string(workflows.AppealOpen) && st.Status != workflows.AppealOpen,
					escalated: old.EscalatedAt == nil && st.EscalatedAt != nil,
				}
			}
		}
		if len(eventRows.Seqs) > 0 {
			if _, err := q.InsertAppealEvents(ctx, eventRows); err != nil {
				return fmt.Errorf("insert appeal events: %w", err)
			}
		}
		if d := rec.Decision; d != nil && d.Outcome == workflows.AppealUpheld {
			return correctResult(ctx, q, st.ID, st.AssessmentID, d, correctedScore, *decidedAt)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if fresh.any() {
		a.observeAppeal(ctx, fresh, st.Status, openedAt, decidedAt)
	}
	return nil
}

// correctResult applies an upheld appeal to its result (R6) and notes it in
// the assessor's record; both are idempotent.
func correctResult(ctx context.Context, q *db.Queries, appealID, assessmentID string, d *workflows.DecideAppealInput, score scoring.Tenths, at time.Time) error {
	r, err := q.GetAssessment(ctx, assessmentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return invalid(errInvalidAppeal, "appeal %s: no result %s", appealID, assessmentID)
	}
	if err != nil {
		return err
	}
	original := r.Score // as published: before this (first) correction
	if r.OriginalScore.Valid {
		original = r.OriginalScore
	}
	if _, err := q.CorrectAssessment(ctx, db.CorrectAssessmentParams{
		ID: assessmentID, Score: db.Numeric(score), Band: string(scoring.BandOf(score)),
		CorrectedBy: d.Actor, CorrectedAt: at, CorrectionReason: d.Reason,
	}); err != nil {
		return fmt.Errorf("correct result %s: %w", assessmentID, err)
	}
	var assessor *string
	if r.TeamID != "" {
		id, err := q.AssessorOfTeam(ctx, r.TeamID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if id != "" {
			assessor = &id
		}
	}
	if _, err := q.InsertOverturn(ctx, db.InsertOverturnParams{
		AppealID: appealID, AssessmentID: assessmentID, AssessorID: assessor, DecidedBy: d.Actor,
		OriginalScore: original, CorrectedScore: db.Numeric(score), Reason: d.Reason, At: at,
	}); err != nil {
		return fmt.Errorf("record overturn of %s: %w", assessmentID, err)
	}
	return nil
}

func validateAppeal(rec workflows.AppealRecord) error {
	st := rec.State
	switch {
	case st.ID == "" || st.AssessmentID == "" || st.AppellantID == "":
		return errors.New("appeal record without id, assessment_id or appellant_id")
	case st.ID != workflows.AppealID(st.AssessmentID):
		return fmt.Errorf("appeal id %s is not the one of result %s", st.ID, st.AssessmentID)
	case !slices.Contains(appealStatuses, st.Status):
		return fmt.Errorf("appeal status %q", st.Status)
	case st.Stage != 1 && st.Stage != 2:
		return fmt.Errorf("appeal stage %d", st.Stage)
	case st.DueAt.IsZero():
		return errors.New("appeal without due_at")
	}
	if d := rec.Decision; d != nil {
		if d.Outcome != workflows.AppealUpheld && d.Outcome != workflows.AppealRejected {
			return fmt.Errorf("decision outcome %q", d.Outcome)
		}
		if d.Outcome != st.Status {
			return fmt.Errorf("decision %s with state %s", d.Outcome, st.Status)
		}
		if d.Actor == "" {
			return errors.New("decision without actor")
		}
	}
	return nil
}

// appealChange is what a RecordAppeal wrote that was new.
type appealChange struct{ opened, ended, escalated bool }

func (c appealChange) any() bool { return c.opened || c.ended || c.escalated }

// observeAppeal records the R6 metrics of what was new.
func (a *Activities) observeAppeal(ctx context.Context, c appealChange, status workflows.AppealStatus, openedAt time.Time, decidedAt *time.Time) {
	m := a.Metrics
	if m == nil {
		return
	}
	if c.opened {
		m.appealsOpened.Inc()
	}
	if c.escalated {
		m.appealDeadlinesMissed.Inc()
	}
	if !c.ended {
		return
	}
	m.appealsDecided.WithLabelValues(string(status)).Inc()
	if (status == workflows.AppealUpheld || status == workflows.AppealRejected) && decidedAt != nil {
		ovs, err := a.Q.CalendarOverrides(ctx)
		if err != nil {
			a.logger().WarnContext(ctx, "metrics: appeal decision time: calendar overrides", "err", err)
			return
		}
		loc, _ := zone("")
		m.appealDecisionTime.Observe(workingTime(calendar.New(loc, ovs), openedAt, *decidedAt).Seconds())
	}
}

// workingTime is the time between from and to that falls on working days
// (R2): each working day counts 24 hours, other days none.
func workingTime(cal *calendar.Calendar, from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	loc := cal.Location()
	var total time.Duration
	for d := calendar.DateOf(from, loc); !d.After(calendar.DateOf(to, loc)); d = d.AddDays(1) {
		if !cal.IsWorkingDay(d) {
			continue
		}
		lo, hi := d.Start(loc), d.AddDays(1).Start(loc)
		if from.After(lo) {
			lo = from
		}
		if to.Before(hi) {
			hi = to
		}
		if hi.After(lo) {
			total += hi.Sub(lo)
		}
	}
	return total
}

// NotifyAppeal delivers an appeal's reminder, escalation or outcome notice
// (R6) like Notify: a log line without a webhook, else a POST with
// Idempotency-Key: n.Key. It carries ids and times only (R7).
func (a *Activities) NotifyAppeal(ctx context.Context, n workflows.AppealNotice) error {
	if n.Key == "" || n.AppealID == "" {
		return temporal.NewNonRetryableApplicationError("appeal notice without key or appeal_id", "InvalidNotification", nil)
	}
	return a.deliver(ctx, "appeal", n.Key, n, "appeal notification",
		"kind", n.Kind, "appeal_id", n.AppealID, "recipients", n.Recipients, "due_at", n.DueAt, "key", n.Key)
}
