package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/scoring"
	"github.com/acme/aftersales/workflows"
)

// The lists of deductions and appeals (issue 10) and, in reports.go, the
// R7 reports. They read many people's records at once, so besides the
// route's Access rule each needs to know whose rows a caller may read:
// Rows declares both, once per route.

// Rows declares whose rows of a list or report a caller reads (R7:
// managers see their teams, HR and escalation officers see all, agents see
// their own). The route admits exactly the roles named here (its Access
// rule is rows.access()) and the handler narrows its query to rows.of(the
// caller). A person holding several roles gets the widest of them.
type Rows struct {
	All   []auth.Role // every row
	Teams []auth.Role // the rows of the people of the teams they manage
	Own   []auth.Role // their own rows
}

// The scopes of the lists and reports (R7).
var (
	// A deduction or an appeal is a record of a person: anyone reads their
	// own (R1: the assessed employee appeals, whatever their roles).
	recordRows = Rows{All: []auth.Role{auth.HR, auth.EscalationOfficer}, Teams: []auth.Role{auth.Manager}, Own: auth.AllRoles}
	// Timeliness and CSI per agent: an agent reads their own rows.
	performanceRows = Rows{All: []auth.Role{auth.HR, auth.EscalationOfficer}, Teams: []auth.Role{auth.Manager}, Own: []auth.Role{auth.Agent}}
	// Appeal outcomes and pending approvals are oversight: no own rows.
	oversightRows = Rows{All: []auth.Role{auth.HR, auth.EscalationOfficer}, Teams: []auth.Role{auth.Manager}}
)

// access is the route's Access rule: any role of the declaration.
func (a Rows) access() Access { return only(slices.Concat(a.All, a.Teams, a.Own)...) }

// rowScope is what one caller reads, in the shape of the queries' scope
// parameters (db/queries/reports.sql).
type rowScope struct {
	teams []string // nil: every row; else the people of these teams (may be none)
	self  *string  // and the caller's own rows; nil: none
}

// of is the scope of caller p.
func (a Rows) of(p auth.Principal) rowScope {
	if p.Has(a.All...) {
		return rowScope{}
	}
	sc := rowScope{teams: []string{}} // never nil: nil would mean every row
	if p.Has(a.Teams...) {
		sc.teams = append(sc.teams, p.ManagedTeams...)
	}
	if p.Has(a.Own...) {
		sc.self = &p.UserID
	}
	return sc
}

// wholeTeam reports whether the scope covers every member of team id (so a
// team's total may be shown), not just the caller's own row in it.
func (sc rowScope) wholeTeam(id string) bool {
	return id != "" && (sc.teams == nil || slices.Contains(sc.teams, id))
}

// monthSpan is a month's instants [start, end) in the calendar's zone
// (R2, R4.0).
type monthSpan struct {
	name       string // YYYY-MM
	start, end time.Time
}

// monthParam reads the query parameter name as a month, reporting into
// errs; ok is false when it is absent (reported if required) or invalid.
func (s *Server) monthParam(q url.Values, name string, required bool, errs fieldErrors) (monthSpan, bool) {
	v := q.Get(name)
	if v == "" {
		if required {
			errs.add(name, "required, a month as YYYY-MM")
		}
		return monthSpan{}, false
	}
	m, p := input.Month(v, s.loc, time.Now())
	if p != "" {
		errs.add(name, p)
		return monthSpan{}, false
	}
	return monthSpan{name: v, start: m, end: m.AddDate(0, 1, 0)}, true
}

// deductionStatuses are R4.4's.
var deductionStatuses = []string{"proposed", "confirmed", "cancelled"}

// deductionItem is a deduction of GET /deductions: the answer of the
// single-deduction commands plus the employee's team.
type deductionItem struct {
	deduction
	TeamID string `json:"team_id"` // the employee's team now ("" for none)
}

type deductionCursor struct {
	At time.Time `json:"a"`
	ID int64     `json:"i"`
}

// GET /api/v1/deductions: the deductions a caller may read (recordRows),
// oldest occurrence first. ?status=proposed is a manager's queue of
// proposals to confirm or cancel, those of missed clocks (R3, R4.4)
// included (source_complaint_no).
func (s *Server) listDeductions(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListDeductionsParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("employee_id"); v != "" {
		p.EmployeeID = &v
	}
	if v := q.Get("team_id"); v != "" {
		p.TeamID = &v
	}
	if v := q.Get("status"); v != "" {
		if !slices.Contains(deductionStatuses, v) {
			errs.add("status", "must be proposed, confirmed or cancelled")
		}
		p.Status = &v
	}
	// R4.0: a deduction counts in the month of occurred_at.
	if m, ok := s.monthParam(q, "month", false, errs); ok {
		p.OccurredFrom, p.OccurredUntil = &m.start, &m.end
	}
	var cur deductionCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterOccurredAt, p.AfterID = &cur.At, pgtype.Int8{Int64: cur.ID, Valid: true}
	}
	if err := errs.err(); err != nil {
		return err
	}
	sc := recordRows.of(principal(r))
	p.ScopeTeams, p.ScopeSelf = sc.teams, sc.self
	rows, err := s.q.ListDeductions(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(d db.ListDeductionsRow) any { return deductionCursor{At: d.OccurredAt, ID: d.ID} },
		func(d db.ListDeductionsRow) deductionItem {
			return deductionItem{TeamID: d.TeamID, deduction: s.deductionOf(db.Deduction{
				ID: d.ID, EmployeeID: d.EmployeeID, ReasonCode: d.ReasonCode, Points: d.Points, Status: d.Status,
				OccurredAt: d.OccurredAt, Note: d.Note, SourceComplaintNo: d.SourceComplaintNo, ProposedBy: d.ProposedBy,
				CreatedAt: d.CreatedAt, DecidedBy: d.DecidedBy, DecidedAt: d.DecidedAt, DecisionNote: d.DecisionNote,
			})}
		}))
	return nil
}

// appealItem is an appeal of GET /appeals, from the read model: the
// fields of GET /appeals/{id} but the history, plus the month, the
// appellant's team, and the decision.
type appealItem struct {
	ID           string `json:"id"`
	AssessmentID string `json:"assessment_id"`
	Month        string `json:"month"`
	AppellantID  string `json:"appellant_id"`
	TeamID       string `json:"team_id"` // the appellant's team now ("" for none)
	Stage        int    `json:"stage"`
	Status       string `json:"status"`
	// DueAt is the current stage's deadline; RemainingSeconds counts down
	// to it as of the answer (negative once overdue, 0 once ended).
	DueAt            time.Time       `json:"due_at"`
	RemainingSeconds int64           `json:"remaining_seconds"`
	EscalatedAt      *time.Time      `json:"escalated_at"`
	OpenedAt         time.Time       `json:"opened_at"`
	DecidedAt        *time.Time      `json:"decided_at"`
	DecidedBy        *string         `json:"decided_by"`
	OutcomeReason    *string         `json:"outcome_reason"`
	OriginalScore    *scoring.Tenths `json:"original_score"`
	CorrectedScore   *scoring.Tenths `json:"corrected_score"`
}

type appealCursor struct {
	At time.Time `json:"a"`
	ID string    `json:"i"`
}

// appealStatuses are R6's.
var appealStatuses = []workflows.AppealStatus{workflows.AppealOpen, workflows.AppealWithdrawn, workflows.AppealUpheld, workflows.AppealRejected}

// GET /api/v1/appeals: the appeals a caller may read (recordRows), in the
// order they were opened. HR's desk is ?stage=2&status=open: every appeal
// waiting for a decision, with its deadline (R6).
func (s *Server) listAppeals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListAppealsParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("stage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 1 && n != 2) {
			errs.add("stage", "must be 1 or 2")
		}
		p.Stage = pgtype.Int4{Int32: int32(n), Valid: true}
	}
	if v := q.Get("status"); v != "" {
		if !slices.Contains(appealStatuses, workflows.AppealStatus(v)) {
			errs.add("status", "must be open, withdrawn, upheld or rejected")
		}
		p.Status = &v
	}
	// The month of the result appealed against (R6).
	if m, ok := s.monthParam(q, "month", false, errs); ok {
		p.Month = &m.name
	}
	if v := q.Get("employee_id"); v != "" {
		p.AppellantID = &v
	}
	var cur appealCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterOpenedAt, p.AfterID = &cur.At, &cur.ID
	}
	if err := errs.err(); err != nil {
		return err
	}
	sc := recordRows.of(principal(r))
	p.ScopeTeams, p.ScopeSelf = sc.teams, sc.self
	rows, err := s.q.ListAppeals(r.Context(), p)
	if err != nil {
		return err
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(a db.ListAppealsRow) any { return appealCursor{At: a.OpenedAt, ID: a.ID} },
		func(a db.ListAppealsRow) appealItem { return s.appealItemOf(a, now) }))
	return nil
}

func (s *Server) appealItemOf(a db.ListAppealsRow, now time.Time) appealItem {
	// remaining_seconds as GET /appeals/{id} counts it.
	st := workflows.AppealState{Status: workflows.AppealStatus(a.Status), DueAt: a.DueAt}
	st.Refresh(now)
	return appealItem{
		ID: a.ID, AssessmentID: a.AssessmentID, Month: a.Month, AppellantID: a.AppellantID, TeamID: a.TeamID,
		Stage: int(a.Stage), Status: a.Status, DueAt: shownTime(a.DueAt, s.loc), RemainingSeconds: st.RemainingSeconds,
		EscalatedAt: localTime(a.EscalatedAt, s.loc), OpenedAt: shownTime(a.OpenedAt, s.loc), DecidedAt: localTime(a.DecidedAt, s.loc),
		DecidedBy: a.DecidedBy, OutcomeReason: a.OutcomeReason,
		OriginalScore: optTenths(a.OriginalScore), CorrectedScore: optTenths(a.CorrectedScore),
	}
}

// optTenths reads a nullable score exactly (db.TenthsOf); nil for NULL.
func optTenths(n pgtype.Numeric) *scoring.Tenths {
	if v, ok := db.TenthsOf(n); ok {
		return &v
	}
	return nil
}
