package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
)

// maxCalendarSpan bounds GET /calendar: a range may cover at most two years.
const maxCalendarSpanYears = 2

// loadCalendar builds the calendar of R2: the shipped official data plus the
// company overrides now in PostgreSQL (a small table, read per call so an
// admin's change is seen at once by every server instance).
func (s *Server) loadCalendar(ctx context.Context) (*calendar.Calendar, error) {
	ovs, err := s.q.CalendarOverrides(ctx)
	if err != nil {
		return nil, err
	}
	return calendar.New(s.loc, ovs), nil
}

type calendarDay struct {
	calendar.Day
	Weekday string `json:"weekday"`
}

type calendarResponse struct {
	From     string        `json:"from"`
	To       string        `json:"to"`
	TimeZone string        `json:"time_zone"`
	Official [2]int        `json:"official_data_years"`
	Days     []calendarDay `json:"days"`
}

// GET /api/v1/calendar?from=&to=
func (s *Server) listCalendar(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	from := dateParam(errs, "from", q.Get("from"))
	to := dateParam(errs, "to", q.Get("to"))
	if len(errs) == 0 {
		switch {
		case to.Before(from):
			errs.add("to", "must not be before from")
		case to.After(calendar.DateOf(from.Start(time.UTC).AddDate(maxCalendarSpanYears, 0, 0), time.UTC)):
			errs.add("to", fmt.Sprintf("the range may cover at most %d years", maxCalendarSpanYears))
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	cal, err := s.loadCalendar(r.Context())
	if err != nil {
		return err
	}
	days := cal.Days(from, to)
	out := calendarResponse{From: from.String(), To: to.String(), TimeZone: s.loc.String(), Days: make([]calendarDay, len(days))}
	out.Official[0], out.Official[1] = calendar.OfficialYears()
	for i, d := range days {
		out.Days[i] = calendarDay{Day: d, Weekday: d.Date.Weekday().String()}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func dateParam(errs fieldErrors, name, v string) calendar.Date {
	if v == "" {
		errs.add(name, "required, as YYYY-MM-DD")
		return calendar.Date{}
	}
	d, err := calendar.ParseDate(v)
	if err != nil {
		errs.add(name, "must be a date as YYYY-MM-DD")
	}
	return d
}

type overrideRequest struct {
	Working *bool  `json:"working"`
	Note    string `json:"note"`
}

type overrideResponse struct {
	Date      string    `json:"date"`
	Working   bool      `json:"working"`
	Note      string    `json:"note"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

const maxNoteLen = 500

// PUT /api/v1/calendar/overrides/{date}: 201 when created, 200 when replaced.
// The change and its author are logged in the same transaction (R7).
func (s *Server) putCalendarOverride(w http.ResponseWriter, r *http.Request) error {
	errs := fieldErrors{}
	date := dateParam(errs, "date", chi.URLParam(r, "date"))
	var req overrideRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Working == nil {
		errs.add("working", "required: true adds a working day, false removes one")
	}
	if req.Note = lineField(errs, "note", req.Note, maxNoteLen, false); req.Note == "" {
		errs.add("note", "required: say why the day changes")
	}
	// An override lies within the service's horizon (input.Horizon): from
	// 2000 to a year ahead, the years a running case can count in.
	if errs["date"] == "" {
		if p := input.Horizon(date.Start(s.loc), time.Now()); p != "" {
			errs.add("date", p)
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	actor := principal(r).UserID
	var row db.UpsertCalendarOverrideRow
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		row, err = q.UpsertCalendarOverride(r.Context(), db.UpsertCalendarOverrideParams{
			Day: date.Start(time.UTC), Working: *req.Working, Note: req.Note, UpdatedBy: actor,
		})
		if err != nil {
			return err
		}
		return q.LogCalendarOverride(r.Context(), db.LogCalendarOverrideParams{
			Day: date.Start(time.UTC), Action: "set", Working: req.Working, Note: &req.Note, ActorID: actor,
		})
	})
	if err != nil {
		return fmt.Errorf("put calendar override: %w", err)
	}
	status := http.StatusOK
	if row.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, overrideResponse{
		Date: date.String(), Working: row.Working, Note: row.Note, UpdatedBy: row.UpdatedBy, UpdatedAt: shownTime(row.UpdatedAt, s.loc),
	})
	return nil
}

// DELETE /api/v1/calendar/overrides/{date}: 204, or 404 when there is none.
func (s *Server) deleteCalendarOverride(w http.ResponseWriter, r *http.Request) error {
	errs := fieldErrors{}
	date := dateParam(errs, "date", chi.URLParam(r, "date"))
	if err := errs.err(); err != nil {
		return err
	}
	actor := principal(r).UserID
	var deleted int64
	err := pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		if deleted, err = q.DeleteCalendarOverride(r.Context(), date.Start(time.UTC)); err != nil || deleted == 0 {
			return err
		}
		return q.LogCalendarOverride(r.Context(), db.LogCalendarOverrideParams{
			Day: date.Start(time.UTC), Action: "delete", ActorID: actor,
		})
	})
	if err != nil {
		return fmt.Errorf("delete calendar override: %w", err)
	}
	if deleted == 0 {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no company override on " + date.String()}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type deadlineRequest struct {
	From        string `json:"from"`
	WorkingDays *int   `json:"working_days"`
}

type deadlineResponse struct {
	From        time.Time `json:"from"`
	WorkingDays int       `json:"working_days"`
	DueAt       time.Time `json:"due_at"`
}

// maxWorkingDays bounds POST /calendar/deadline to about a year and a half.
const maxWorkingDays = 366

// POST /api/v1/calendar/deadline: the deadline R2 gives N working days after from.
func (s *Server) calendarDeadline(w http.ResponseWriter, r *http.Request) error {
	var req deadlineRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	from, err := time.Parse(time.RFC3339, req.From)
	if req.From == "" {
		errs.add("from", "required, an RFC 3339 instant with offset")
	} else if err != nil {
		errs.add("from", "must be an RFC 3339 instant with offset, e.g. 2026-09-30T10:00:00+08:00")
	} else if p := input.Horizon(from, time.Now()); p != "" {
		errs.add("from", p)
	}
	switch {
	case req.WorkingDays == nil:
		errs.add("working_days", "required")
	case *req.WorkingDays < 1 || *req.WorkingDays > maxWorkingDays:
		errs.add("working_days", fmt.Sprintf("must be between 1 and %d", maxWorkingDays))
	}
	if err := errs.err(); err != nil {
		return err
	}
	cal, err := s.loadCalendar(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, deadlineResponse{
		From: shownTime(from, s.loc), WorkingDays: *req.WorkingDays, DueAt: shownTime(cal.AddWorkingDays(from, *req.WorkingDays), s.loc),
	})
	return nil
}
