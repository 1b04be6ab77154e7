package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/workflows"
)

// Escalations of R3: the queue (GET /escalations) and their
// acknowledgement.

// escalationItem is an escalation of api.md.
type escalationItem struct {
	workflows.Escalation
	AckNote    *string `json:"ack_note,omitempty"`
	TeamID     string  `json:"team_id"`
	AssigneeID string  `json:"assignee_id"`
}

type escalationCursor struct {
	At time.Time `json:"a"`
	ID string    `json:"i"`
}

// GET /api/v1/escalations: open escalations oldest first (?open=false: all).
// A manager sees their teams' and those escalated to them.
func (s *Server) listEscalations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListEscalationsParams{OpenOnly: true, RowLimit: int32(pg.limit + 1)}
	switch q.Get("open") {
	case "", "true":
	case "false":
		p.OpenOnly = false
	default:
		errs.add("open", "must be true or false")
	}
	var cur escalationCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterEscalatedAt, p.AfterID = &cur.At, &cur.ID
	}
	if err := errs.err(); err != nil {
		return err
	}
	if me := principal(r); !me.Has(auth.EscalationOfficer) {
		p.TeamIds = append([]string{}, me.ManagedTeams...)
		p.Recipient = &me.UserID
	}
	rows, err := s.q.ListEscalations(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(e db.ListEscalationsRow) any { return escalationCursor{At: e.EscalatedAt, ID: e.ID} },
		func(e db.ListEscalationsRow) escalationItem { return escalationRow(e).toItem(s.loc) }))
	return nil
}

type escalationRow db.GetEscalationRow

func (e escalationRow) toItem(loc *time.Location) escalationItem {
	return escalationItem{
		Escalation: workflows.Escalation{
			ID: e.ID, ComplaintNo: e.ComplaintNo, Clock: workflows.ClockName(e.Clock), Level: int(e.Level),
			EscalatedAt: shownTime(e.EscalatedAt, loc), EscalatedTo: e.EscalatedTo, AcknowledgedAt: localTime(e.AcknowledgedAt, loc), AcknowledgedBy: e.AcknowledgedBy,
		},
		AckNote: e.AckNote, TeamID: e.TeamID, AssigneeID: e.AssigneeID,
	}
}

// escalationResource: an escalation's complaint team, and as owners the
// people it was escalated to (api.md: "the manager escalated to").
func (s *Server) escalationResource(r *http.Request) (Resource, error) {
	e, err := s.q.GetEscalation(r.Context(), chi.URLParam(r, "id"))
	if errors.Is(err, pgx.ErrNoRows) {
		return Resource{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such escalation"}
	}
	if err != nil {
		return Resource{}, err
	}
	return Resource{OwnerIDs: e.EscalatedTo}, nil
}

type ackRequest struct {
	Note string `json:"note"`
}

// POST /api/v1/escalations/{id}/ack: once; a second acknowledgement is 409
// and leaves the first as it was.
func (s *Server) ackEscalation(w http.ResponseWriter, r *http.Request) error {
	var req ackRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return err
		}
	}
	errs := fieldErrors{}
	note := optionalText(errs, "note", req.Note, input.Note)
	if err := errs.err(); err != nil {
		return err
	}
	id, me := chi.URLParam(r, "id"), principal(r).UserID
	_, err := s.q.AckEscalation(r.Context(), db.AckEscalationParams{ID: id, AcknowledgedBy: &me, AckNote: &note})
	if errors.Is(err, pgx.ErrNoRows) {
		e, gerr := s.q.GetEscalation(r.Context(), id)
		if errors.Is(gerr, pgx.ErrNoRows) {
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such escalation"}
		}
		if gerr != nil {
			return gerr
		}
		return &apiError{Status: http.StatusConflict, Code: "already_acknowledged",
			Message: fmt.Sprintf("acknowledged by %s at %s", deref(e.AcknowledgedBy), e.AcknowledgedAt.In(s.loc).Format(time.RFC3339))}
	}
	if err != nil {
		return err
	}
	e, err := s.q.GetEscalation(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, escalationRow(e).toItem(s.loc))
	return nil
}
