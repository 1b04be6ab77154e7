package server

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/scoring"
)

// correction is api.md's `corrected`: the original kept, who, when, why (R6).
type correction struct {
	OriginalScore *scoring.Tenths `json:"original_score"`
	OriginalBand  *string         `json:"original_band"`
	By            string          `json:"by"`
	At            time.Time       `json:"at"`
	Reason        string          `json:"reason"`
}

// assessmentItem is an assessment of api.md. Scores are exact one-decimal
// numbers; an indicator without data is null (R4.4).
type assessmentItem struct {
	ID             string          `json:"id"`
	EmployeeID     string          `json:"employee_id"`
	TeamID         string          `json:"team_id"`
	Month          string          `json:"month"`
	CSAT           *scoring.Tenths `json:"csat"`
	FTFR           *scoring.Tenths `json:"ftfr"`
	Timeliness     *scoring.Tenths `json:"timeliness"`
	Deductions     int             `json:"deductions"` // confirmed deduction points of the month
	DeductionCount int             `json:"deduction_count"`
	Score          *scoring.Tenths `json:"score"`
	Band           string          `json:"band"`
	SeriousWarning bool            `json:"serious_warning"`
	Probation      bool            `json:"probation"`
	Status         string          `json:"status"`
	Corrected      *correction     `json:"corrected"`
	ComputedAt     time.Time       `json:"computed_at"`
}

func (s *Server) assessmentOf(a db.ListAssessmentsRow) assessmentItem {
	opt := func(n pgtype.Numeric) *scoring.Tenths {
		if v, ok := db.TenthsOf(n); ok {
			return &v
		}
		return nil
	}
	item := assessmentItem{
		ID: a.ID, EmployeeID: a.EmployeeID, TeamID: a.TeamID, Month: a.Month,
		CSAT: opt(a.Csat), FTFR: opt(a.Ftfr), Timeliness: opt(a.Timeliness),
		Deductions: int(a.DeductionPoints), DeductionCount: int(a.DeductionCount), Score: opt(a.Score),
		Band: a.Band, SeriousWarning: a.SeriousWarning, Probation: a.Probation, Status: a.Status,
		ComputedAt: shownTime(a.ComputedAt, s.loc),
	}
	if a.CorrectedAt != nil {
		item.Corrected = &correction{OriginalScore: opt(a.OriginalScore), OriginalBand: a.OriginalBand,
			By: deref(a.CorrectedBy), At: shownTime(*a.CorrectedAt, s.loc), Reason: deref(a.CorrectionReason)}
	}
	return item
}

// GET /api/v1/assessments: hr all, a manager their teams (and their own),
// an agent their own (R7).
func (s *Server) listAssessments(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListAssessmentsParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("month"); v != "" {
		if _, err := time.Parse("2006-01", v); err != nil {
			errs.add("month", "must be YYYY-MM")
		}
		p.Month = &v
	}
	if v := q.Get("employee_id"); v != "" {
		p.EmployeeID = &v
	}
	if v := q.Get("team_id"); v != "" {
		p.TeamID = &v
	}
	var after string
	if pg.decodeCursor(&after, errs) {
		p.AfterID = &after
	}
	if err := errs.err(); err != nil {
		return err
	}
	me := principal(r)
	if !me.Has(auth.HR) {
		p.ScopeSelf = &me.UserID
		p.ScopeTeams = []string{}
		if me.Has(auth.Manager) {
			p.ScopeTeams = append([]string{}, me.ManagedTeams...) // never nil: nil would mean "all"
		}
	}
	rows, err := s.q.ListAssessments(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(a db.ListAssessmentsRow) any { return a.ID },
		s.assessmentOf))
	return nil
}

// annualItem is one employee's year (R4.6).
type annualItem struct {
	EmployeeID string `json:"employee_id"`
	scoring.AnnualResult
}

// GET /api/v1/reports/annual/{year} (hr): totals and grades from the final
// monthly results of the year (R4.6).
func (s *Server) annualReport(w http.ResponseWriter, r *http.Request) error {
	year, err := strconv.Atoi(chi.URLParam(r, "year"))
	if err != nil || year < 2000 || year > 2100 {
		return badRequest(map[string]string{"year": "must be a year such as 2026"})
	}
	rows, err := s.q.FinalScoresOfYear(r.Context(), strconv.Itoa(year))
	if err != nil {
		return err
	}
	cohort := map[string]scoring.Year{}
	for _, row := range rows {
		m, err := time.Parse("2006-01", row.Month)
		v, ok := db.TenthsOf(row.Score)
		if err != nil || !ok {
			return fmt.Errorf("annual report: bad row %s %s", row.EmployeeID, row.Month)
		}
		y := cohort[row.EmployeeID]
		y[m.Month()-1] = &v
		cohort[row.EmployeeID] = y
	}
	grades, err := scoring.Annual(cohort, scoring.DefaultPolicy())
	if err != nil {
		return err
	}
	out := struct {
		Year      int          `json:"year"`
		Employees []annualItem `json:"employees"`
	}{Year: year, Employees: []annualItem{}}
	for _, id := range slices.Sorted(maps.Keys(grades)) {
		out.Employees = append(out.Employees, annualItem{EmployeeID: id, AnnualResult: grades[id]})
	}
	slices.SortStableFunc(out.Employees, func(a, b annualItem) int { return a.Rank - b.Rank })
	writeJSON(w, http.StatusOK, out)
	return nil
}
