package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
)

// Work orders (R4.2) and deductions (R4.4): the assessment's inputs entered
// over HTTP. Who may enter them is decided by the Access rules of routes()
// with the loaders below (R1, R7): a work order's technician and a
// deduction's employee are named in the body, so the loader reads it first.

// maxEntryAge bounds completed_at and occurred_at: older entries belong in
// a data migration, not the monthly assessment.
const maxEntryAge = 366 * 24 * time.Hour

// clockSkew is how far in the future a client's "now" may be.
const clockSkew = time.Minute

// deductionPoints are the points of each R4.4 reason (seed 001).
var deductionPoints = map[string]int32{
	"rude_to_customer":       50,
	"untimely_service":       20,
	"argument_with_customer": 50,
	"training_unprepared":    20,
	"rude_to_trainee":        50,
}

const reasonCodes = "rude_to_customer (50), untimely_service (20), argument_with_customer (50), training_unprepared (20) or rude_to_trainee (50)"

// subjectFromBody is the Resource loader of a create whose subject (a work
// order's technician, a deduction's employee) is the body's field: it
// decodes the body strictly (a bad body is 400 before anything else), puts
// it back for the handler, and answers with the subject's team and the
// subject as owner. An unknown or inactive subject is a 400 on field.
func subjectFromBody[T any](s *Server, field string, subject func(*T) string) func(*http.Request) (Resource, error) {
	return func(r *http.Request) (Resource, error) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return Resource{}, badRequest(map[string]string{"body": "could not be read"})
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req T
		if err := decodeBody(body, &req); err != nil {
			return Resource{}, err
		}
		id := strings.TrimSpace(subject(&req))
		if p := input.ID(id); p != "" {
			return Resource{}, badRequest(map[string]string{field: p})
		}
		u, err := s.q.GetUserPlacement(r.Context(), id)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !u.Active) {
			return Resource{}, badRequest(map[string]string{field: "no such active user"})
		}
		if err != nil {
			return Resource{}, err
		}
		res := Resource{OwnerIDs: []string{u.ID}}
		if u.TeamID != "" {
			res.TeamIDs = []string{u.TeamID}
		}
		return res, nil
	}
}

// placeEmployee looks up the subject of an entry: an active user with a
// team and, when role is set, that role.
func (s *Server) placeEmployee(ctx context.Context, errs fieldErrors, field, id string, role auth.Role, why string) db.GetUserPlacementRow {
	u, ok := s.lookupUser(ctx, errs, field, id)
	switch {
	case !ok:
	case role != "" && !(auth.Principal{Roles: roles(u.Roles)}).Has(role):
		errs.add(field, fmt.Sprintf("must be an %s (%s)", role, why))
	case u.TeamID == "":
		errs.add(field, "the user has no team ("+why+")")
	}
	return u
}

// lookupUser finds the user a body names in field, reporting into errs a
// malformed id, an unknown or inactive user, or PostgreSQL down (503). It
// answers with what it found (an inactive user's row too) and whether the
// user may be named.
func (s *Server) lookupUser(ctx context.Context, errs fieldErrors, field, id string) (db.GetUserPlacementRow, bool) {
	if p := input.ID(id); p != "" {
		errs.add(field, p)
		return db.GetUserPlacementRow{}, false
	}
	u, err := s.q.GetUserPlacement(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && !u.Active):
		errs.add(field, "no such active user")
		return u, false
	case err != nil:
		errs.down()
		s.log.WarnContext(ctx, "look up "+field, "error", err)
		return u, false
	}
	return u, true
}

// instantField checks a required past instant: not in the future, at most a year old.
func instantField(errs fieldErrors, name string, t *time.Time, now time.Time) {
	switch {
	case t == nil:
		errs.add(name, "required, an RFC 3339 instant with offset")
	case t.After(now.Add(clockSkew)):
		errs.add(name, "must not be in the future")
	case t.Before(now.Add(-maxEntryAge)):
		errs.add(name, "must be within the last year")
	}
}

type workOrderRequest struct {
	WorkOrderNo  string     `json:"work_order_no"`
	TechnicianID string     `json:"technician_id"`
	CompletedAt  *time.Time `json:"completed_at"`
	RepeatOf     *string    `json:"repeat_of"`
}

// workOrder is a work order of the answers.
type workOrder struct {
	WorkOrderNo  string    `json:"work_order_no"`
	TechnicianID string    `json:"technician_id"`
	TeamID       string    `json:"team_id"`
	CompletedAt  time.Time `json:"completed_at"`
	RepeatOf     *string   `json:"repeat_of"`
	// FirstTimeFix turns false when a repeat of it completed within 30 days
	// is entered (R4.2); CameBackAs names that repeat.
	FirstTimeFix bool      `json:"first_time_fix"`
	CameBackAs   *string   `json:"came_back_as"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
}

func (s *Server) workOrderOf(w db.WorkOrder) workOrder {
	return workOrder{
		WorkOrderNo: w.WorkOrderNo, TechnicianID: w.TechnicianID, TeamID: w.TeamID, CompletedAt: shownTime(w.CompletedAt, s.loc),
		RepeatOf: w.RepeatOf, FirstTimeFix: w.FirstTimeFix, CameBackAs: w.CameBackAs, CreatedBy: w.CreatedBy,
		CreatedAt: shownTime(w.CreatedAt, s.loc),
	}
}

// workOrderHash fingerprints a create body for idempotency, with the instant
// normalized, so the same instant written in another offset is a retry.
func workOrderHash(req workOrderRequest) []byte {
	canon := struct {
		No, Technician, CompletedAt string
		RepeatOf                    *string
	}{No: req.WorkOrderNo, Technician: req.TechnicianID, RepeatOf: req.RepeatOf}
	if req.CompletedAt != nil {
		canon.CompletedAt = req.CompletedAt.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(canon)
	h := sha256.Sum256(b)
	return h[:]
}

// POST /api/v1/work-orders: records a completed repair (R4.2), idempotent
// on work_order_no (the same body again: 200 with the work order as it is
// now; another body: 409). With repeat_of, the earlier work order's repair
// came back: when this one was completed at most 30 days after it, the
// earlier one is not a first-time fix (same transaction).
func (s *Server) createWorkOrder(w http.ResponseWriter, r *http.Request) error {
	var req workOrderRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	errs := fieldErrors{}
	// A malformed key can be no retry of anything: answer at once.
	if !keyField(errs, "work_order_no", req.WorkOrderNo) || (req.RepeatOf != nil && !keyField(errs, "repeat_of", *req.RepeatOf)) {
		return errs.err()
	}
	tech := s.placeEmployee(ctx, errs, "technician_id", req.TechnicianID, auth.Agent, "R4.2: a work order counts for its technician")
	instantField(errs, "completed_at", req.CompletedAt, time.Now())
	if req.RepeatOf != nil {
		switch prev, err := s.q.GetWorkOrder(ctx, *req.RepeatOf); {
		case *req.RepeatOf == req.WorkOrderNo:
			errs.add("repeat_of", "must be an earlier work order, not this one")
		case errors.Is(err, pgx.ErrNoRows):
			errs.add("repeat_of", "no such work order")
		case err != nil:
			return err
		case req.CompletedAt != nil && !prev.CompletedAt.Before(*req.CompletedAt):
			errs.add("repeat_of", "must have been completed before this work order's completed_at")
		}
	}
	hash := workOrderHash(req)

	// A retry of an accepted create is answered from what exists, even if
	// the body would no longer pass (the technician moved team, a year passed).
	existing, err := s.q.GetWorkOrder(ctx, req.WorkOrderNo)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if !found || !bytes.Equal(existing.RequestHash, hash) {
		if err := errs.err(); err != nil {
			return err
		}
	}
	created := false
	if !found {
		// The months this entry changes: its own, and a repeated order's (R4.0, R4.2).
		instants := []time.Time{*req.CompletedAt}
		if req.RepeatOf != nil {
			if prev, err := s.q.GetWorkOrder(ctx, *req.RepeatOf); err == nil {
				instants = append(instants, prev.CompletedAt)
			}
		}
		gates, err := s.gate(ctx, instants...)
		if err != nil {
			return err
		}
		defer func() {
			if created {
				s.recompute(ctx, gates)
			}
		}()
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := s.q.WithTx(tx)
			row, err := q.InsertWorkOrder(ctx, db.InsertWorkOrderParams{
				WorkOrderNo: req.WorkOrderNo, RequestHash: hash, TechnicianID: tech.ID, TeamID: tech.TeamID,
				CompletedAt: *req.CompletedAt, RepeatOf: req.RepeatOf, CreatedBy: principal(r).UserID,
			})
			if errors.Is(err, pgx.ErrNoRows) { // a concurrent create won the race
				return nil
			}
			if err != nil {
				return err
			}
			created, existing = true, row
			if req.RepeatOf != nil {
				// R4.2: a repair that comes back within 30 days is not a first-time fix.
				if _, err = q.MarkWorkOrderCameBack(ctx, db.MarkWorkOrderCameBackParams{
					WorkOrderNo: *req.RepeatOf, RepeatNo: req.WorkOrderNo, RepeatCompletedAt: *req.CompletedAt,
				}); err != nil {
					return err
				}
			}
			return requestRecompute(ctx, q, gates)
		})
		if err != nil {
			return fmt.Errorf("create work order: %w", err)
		}
		if !created {
			if existing, err = s.q.GetWorkOrder(ctx, req.WorkOrderNo); err != nil {
				return err
			}
		}
	}
	if !created && !bytes.Equal(existing.RequestHash, hash) {
		return &apiError{Status: http.StatusConflict, Code: "work_order_exists",
			Message: "work order " + req.WorkOrderNo + " already exists with a different body"}
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, s.workOrderOf(existing))
	return nil
}

type deductionRequest struct {
	EmployeeID string     `json:"employee_id"`
	ReasonCode string     `json:"reason_code"`
	OccurredAt *time.Time `json:"occurred_at"`
	Note       string     `json:"note"`
}

// deduction is a deduction of the answers (api.md).
type deduction struct {
	ID                int64      `json:"id"`
	EmployeeID        string     `json:"employee_id"`
	ReasonCode        string     `json:"reason_code"`
	Points            int32      `json:"points"`
	Status            string     `json:"status"`
	OccurredAt        time.Time  `json:"occurred_at"`
	Note              string     `json:"note"`
	ProposedBy        string     `json:"proposed_by"`
	SourceComplaintNo *string    `json:"source_complaint_no"`
	CreatedAt         time.Time  `json:"created_at"`
	DecidedBy         *string    `json:"decided_by"`
	DecidedAt         *time.Time `json:"decided_at"`
	DecisionNote      *string    `json:"decision_note"`
}

func (s *Server) deductionOf(d db.Deduction) deduction {
	return deduction{
		ID: d.ID, EmployeeID: d.EmployeeID, ReasonCode: d.ReasonCode, Points: d.Points, Status: d.Status,
		OccurredAt: shownTime(d.OccurredAt, s.loc), Note: d.Note, ProposedBy: d.ProposedBy, SourceComplaintNo: d.SourceComplaintNo,
		CreatedAt: shownTime(d.CreatedAt, s.loc), DecidedBy: d.DecidedBy, DecidedAt: localTime(d.DecidedAt, s.loc), DecisionNote: d.DecisionNote,
	}
}

// POST /api/v1/deductions: a manager proposes a deduction (R4.4) against an
// employee of a team they manage; its points come from the reason. It
// counts once confirmed, in the month of occurred_at (R4.0). A deduction has
// no business key, so every POST proposes a new one.
func (s *Server) createDeduction(w http.ResponseWriter, r *http.Request) error {
	var req deductionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	ctx := r.Context()
	errs := fieldErrors{}
	emp := s.placeEmployee(ctx, errs, "employee_id", req.EmployeeID, "", "R4.4: a deduction counts for an employee of a team")
	points, ok := deductionPoints[req.ReasonCode]
	if !ok {
		errs.add("reason_code", "must be "+reasonCodes+" (R4.4)")
	}
	instantField(errs, "occurred_at", req.OccurredAt, time.Now())
	if req.OccurredAt != nil && errs["occurred_at"] == "" {
		var closed *apiError
		if _, err := s.gate(ctx, *req.OccurredAt); errors.As(err, &closed) {
			errs.add("occurred_at", closed.Message)
		} else if err != nil {
			return err
		}
	}
	note := textField(errs, "note", req.Note, input.Note)
	if err := errs.err(); err != nil {
		return err
	}
	d, err := s.q.InsertDeduction(ctx, db.InsertDeductionParams{
		EmployeeID: emp.ID, ReasonCode: req.ReasonCode, Points: points, OccurredAt: *req.OccurredAt,
		Note: note, ProposedBy: principal(r).UserID,
	})
	if err != nil {
		return fmt.Errorf("insert deduction: %w", err)
	}
	writeJSON(w, http.StatusCreated, s.deductionOf(d))
	return nil
}

var errNoDeduction = &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such deduction"}

// loadDeduction reads the path's {id}; a malformed id is as unknown as a missing one.
func (s *Server) loadDeduction(r *http.Request) (db.Deduction, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id < 1 {
		return db.Deduction{}, errNoDeduction
	}
	d, err := s.q.GetDeduction(r.Context(), id)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, errNoDeduction
	}
	return d, err
}

// deductionResource: the deduction's employee's team (now) and the employee,
// for "the manager of the employee" (R1, R4.4).
func (s *Server) deductionResource(r *http.Request) (Resource, error) {
	d, err := s.loadDeduction(r)
	if err != nil {
		return Resource{}, err
	}
	u, err := s.q.GetUserPlacement(r.Context(), d.EmployeeID)
	if err != nil {
		return Resource{}, err
	}
	res := Resource{OwnerIDs: []string{d.EmployeeID}}
	if u.TeamID != "" {
		res.TeamIDs = []string{u.TeamID}
	}
	return res, nil
}

type deductionDecisionRequest struct {
	Note string `json:"note"`
}

// decideDeduction is POST /api/v1/deductions/{id}/confirm (status
// confirmed) and /cancel (cancelled): only a proposed deduction, else 409;
// who, when and the note are kept (R7). The note is required to cancel
// (overruling a proposal says why), optional to confirm. Nobody decides a
// deduction against themselves (403).
func (s *Server) decideDeduction(status string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req deductionDecisionRequest
		if r.ContentLength != 0 {
			if err := decodeJSON(w, r, &req); err != nil {
				return err
			}
		}
		errs := fieldErrors{}
		note := optionalText(errs, "note", req.Note, input.Note)
		if status == "cancelled" && note == "" {
			errs.add("note", "required: say why the deduction is cancelled")
		}
		if err := errs.err(); err != nil {
			return err
		}
		ctx, me := r.Context(), principal(r).UserID
		d, err := s.loadDeduction(r)
		if err != nil {
			return err
		}
		if d.EmployeeID == me {
			return &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: "nobody decides a deduction against themselves"}
		}
		if d.Status != "proposed" {
			return s.deductionDecided(d)
		}
		gates, err := s.gate(ctx, d.OccurredAt)
		if err != nil {
			return err
		}
		// A confirmed or cancelled deduction changes the month's score: its
		// recompute is requested in the same transaction (requestRecompute).
		var decided db.Deduction
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			q := s.q.WithTx(tx)
			var err error
			if decided, err = q.DecideDeduction(ctx, db.DecideDeductionParams{ID: d.ID, Status: status, DecidedBy: me, DecisionNote: note}); err != nil {
				return err
			}
			return requestRecompute(ctx, q, gates)
		})
		if err == nil {
			s.recompute(ctx, gates)
		}
		if errors.Is(err, pgx.ErrNoRows) { // decided concurrently
			if d, err = s.loadDeduction(r); err != nil {
				return err
			}
			return s.deductionDecided(d)
		}
		if err != nil {
			return fmt.Errorf("decide deduction %d: %w", d.ID, err)
		}
		writeJSON(w, http.StatusOK, s.deductionOf(decided))
		return nil
	}
}

// deductionDecided is the 409 of a decision on a deduction no longer proposed.
func (s *Server) deductionDecided(d db.Deduction) error {
	msg := "the deduction is " + d.Status
	if d.DecidedBy != nil && d.DecidedAt != nil {
		msg += fmt.Sprintf(" (by %s at %s)", *d.DecidedBy, d.DecidedAt.In(s.loc).Format(time.RFC3339))
	}
	return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: msg}
}
