package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/scoring"
	"github.com/acme/aftersales/workflows"
)

type startCycleRequest struct {
	Month string `json:"month"`
}

// POST /api/v1/assessment-cycles (hr): starts that month's cycle early, or
// returns it (200) when it exists already, whoever started it (R4.5).
func (s *Server) startCycle(w http.ResponseWriter, r *http.Request) error {
	var req startCycleRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	now := time.Now().In(s.loc)
	month, p := input.Month(req.Month, s.loc, now)
	errs := fieldErrors{}
	switch {
	case p != "":
		errs.add("month", p)
	case !month.Before(time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.loc)):
		errs.add("month", "only a month that has ended can be assessed")
	}
	if err := errs.err(); err != nil {
		return err
	}
	// A month once assessed is never assessed again, even past Temporal's retention.
	if row, err := s.q.GetCycle(r.Context(), req.Month); err == nil && row.Status == string(workflows.CycleFinal) {
		st, err := s.cycleState(r, req.Month)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	}
	policy, err := s.assessmentPolicy(r.Context())
	if err != nil {
		return err
	}
	_, err = s.temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{
		ID:                       workflows.AssessmentCycleWorkflowID(req.Month),
		TaskQueue:                s.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Tell "started now" (201) from "exists" (200).
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, // a month is assessed once
	}, workflows.AssessmentCycleWorkflowType, workflows.CycleInput{
		Month: req.Month, StartedBy: principal(r).UserID, Policy: policy, Location: s.loc.String(),
	})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	status := http.StatusCreated
	if errors.As(err, &started) {
		status = http.StatusOK
	} else if err != nil {
		return fmt.Errorf("start assessment cycle: %w", err)
	}
	st, err := s.cycleState(r, req.Month)
	if err != nil {
		return err
	}
	writeJSON(w, status, st)
	return nil
}

// GET /api/v1/assessment-cycles/{month} (hr, manager). A manager sees the
// counts, and only their own teams' service stars (R7).
func (s *Server) getCycle(w http.ResponseWriter, r *http.Request) error {
	month := chi.URLParam(r, "month")
	if _, err := time.Parse("2006-01", month); err != nil {
		return badRequest(map[string]string{"month": "must be YYYY-MM"})
	}
	st, err := s.cycleState(r, month)
	if err != nil {
		return err
	}
	if me := principal(r); !me.Has(auth.HR) {
		st.Appeals = map[string]workflows.AppealStatus{}
		st.ServiceStars = slices.DeleteFunc(st.ServiceStars, func(star workflows.ServiceStar) bool { return !me.Manages(star.TeamID) })
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) cycleState(r *http.Request, month string) (workflows.CycleState, error) {
	var st workflows.CycleState
	v, err := s.temporal.QueryWorkflow(r.Context(), workflows.AssessmentCycleWorkflowID(month), "", workflows.QueryCycle)
	var missing *serviceerror.NotFound
	if errors.As(err, &missing) {
		// Past Temporal's retention the read model still has the month (R7).
		row, err := s.q.GetCycle(r.Context(), month)
		if errors.Is(err, pgx.ErrNoRows) {
			return st, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no assessment cycle for " + month}
		}
		if err != nil {
			return st, err
		}
		st.CycleRecord = workflows.CycleRecord{Month: row.Month, Status: workflows.CycleStatus(row.Status), PublishedAt: row.PublishedAt,
			WindowEndsAt: row.WindowEndsAt, FinalizedAt: row.FinalizedAt, ResultsCount: int(row.ResultsCount),
			OpenAppeals: int(row.OpenAppeals), StartedBy: row.StartedBy}
		if len(row.ServiceStars) > 0 {
			_ = json.Unmarshal(row.ServiceStars, &st.ServiceStars)
		}
	} else if err != nil {
		return st, fmt.Errorf("query cycle %s: %w", month, err)
	} else if err := v.Get(&st); err != nil {
		return st, err
	}
	st.PublishedAt, st.WindowEndsAt, st.FinalizedAt = localTime(st.PublishedAt, s.loc), localTime(st.WindowEndsAt, s.loc), localTime(st.FinalizedAt, s.loc)
	if st.Appeals == nil {
		st.Appeals = map[string]workflows.AppealStatus{}
	}
	if st.ServiceStars == nil {
		st.ServiceStars = []workflows.ServiceStar{}
	}
	return st, nil
}

// splitAssessmentID parses "<YYYY-MM>_<employee id>".
func splitAssessmentID(id string) (month, employee string, ok bool) {
	month, employee, ok = strings.Cut(id, "_")
	if _, err := time.Parse("2006-01", month); err != nil || employee == "" {
		return "", "", false
	}
	return month, employee, ok
}

// appealAssessmentID is the assessment an appeal id ("appeal_<assessment id>") is about.
func appealAssessmentID(appealID string) (string, bool) {
	id, ok := strings.CutPrefix(appealID, "appeal_")
	if _, _, valid := splitAssessmentID(id); !ok || !valid {
		return "", false
	}
	return id, true
}

// assessedResource: an assessment (or its appeal) belongs to the assessed
// employee and their team; the department head is a skip-level owner.
// The path's {id} is an assessment id, or with ofAppeal an appeal id.
func (s *Server) assessedResource(ofAppeal, skipLevel bool) func(*http.Request) (Resource, error) {
	return func(r *http.Request) (Resource, error) {
		id := chi.URLParam(r, "id")
		if ofAppeal {
			var ok bool
			if id, ok = appealAssessmentID(id); !ok {
				return Resource{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such appeal"}
			}
		}
		_, employee, ok := splitAssessmentID(id)
		if !ok {
			return Resource{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such assessment"}
		}
		u, err := s.q.GetUserPlacement(r.Context(), employee)
		if errors.Is(err, pgx.ErrNoRows) {
			return Resource{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such assessment"}
		}
		if err != nil {
			return Resource{}, err
		}
		if skipLevel {
			return Resource{OwnerIDs: []string{u.HeadID}}, nil
		}
		return Resource{TeamIDs: []string{u.TeamID}, OwnerIDs: []string{employee}}, nil
	}
}

type openAppealRequest struct {
	Reason string `json:"reason"`
}

// POST /api/v1/assessments/{id}/appeals (the assessed employee, R6): the
// month's cycle validates the window and the one-appeal rule and starts the
// appeal; 201 + the appeal.
func (s *Server) openAppeal(w http.ResponseWriter, r *http.Request) error {
	var req openAppealRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	req.Reason = textField(errs, "reason", req.Reason, input.Long)
	if err := errs.err(); err != nil {
		return err
	}
	id := chi.URLParam(r, "id")
	month, _, _ := splitAssessmentID(id)
	if _, err := s.q.GetAssessment(r.Context(), id); errors.Is(err, pgx.ErrNoRows) {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such assessment"}
	} else if err != nil {
		return err
	}
	// Idempotent on the result (api.md): the same appeal again is 200 with
	// the existing one; another reason is 409 (R6: one appeal per result).
	if existing, err := s.appealState(r, workflows.AppealID(id)); err == nil {
		if existing.AppellantID == principal(r).UserID && len(existing.Events) > 0 && existing.Events[0].Reason == req.Reason {
			writeJSON(w, http.StatusOK, existing)
			return nil
		}
		return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: "result " + id + " already has an appeal (" + string(existing.Status) + ")"}
	}
	var out workflows.OpenAppealOutput
	err := s.sendUpdate(r, workflows.AssessmentCycleWorkflowID(month), workflows.UpdateOpenAppeal,
		workflows.OpenAppealInput{AssessmentID: id, AppellantID: principal(r).UserID, Reason: req.Reason}, &out,
		func() error {
			// The month's cycle has ended: its results are final (R6: appeals only while published).
			if _, err := s.q.GetCycle(r.Context(), month); err == nil {
				return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: "the results of " + month + " are final"}
			}
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no assessment cycle for " + month}
		})
	if err != nil {
		return err
	}
	st, err := s.appealState(r, out.AppealID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, st)
	return nil
}

func (s *Server) appealState(r *http.Request, appealID string) (workflows.AppealState, error) {
	var st workflows.AppealState
	assessmentID, _ := appealAssessmentID(appealID)
	v, err := s.temporal.QueryWorkflow(r.Context(), workflows.AppealWorkflowID(assessmentID), "", workflows.QueryAppeal)
	var missing *serviceerror.NotFound
	if errors.As(err, &missing) {
		return s.archivedAppeal(r, appealID)
	}
	if err != nil {
		return st, fmt.Errorf("query appeal %s: %w", appealID, err)
	}
	if err := v.Get(&st); err != nil {
		return st, err
	}
	localizeAppeal(&st, s.loc)
	return st, nil
}

// archivedAppeal answers for an appeal whose workflow has ended and is past
// Temporal's retention, from the read model (R7).
func (s *Server) archivedAppeal(r *http.Request, appealID string) (workflows.AppealState, error) {
	var st workflows.AppealState
	row, err := s.q.GetAppealRow(r.Context(), appealID)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such appeal"}
	}
	if err != nil {
		return st, err
	}
	st = workflows.AppealState{ID: row.ID, AssessmentID: row.AssessmentID, AppellantID: row.AppellantID, Stage: int(row.Stage),
		Status: workflows.AppealStatus(row.Status), EscalatedAt: row.EscalatedAt, DueAt: row.DueAt, Events: []workflows.Event{}}
	if v, ok := db.TenthsOf(row.OriginalScore); ok {
		st.OriginalScore = v
	}
	if v, ok := db.TenthsOf(row.CorrectedScore); ok {
		st.CorrectedScore = &v
	}
	events, err := s.q.ListAppealEvents(r.Context(), appealID)
	if err != nil {
		return st, err
	}
	for _, e := range events {
		st.Events = append(st.Events, workflows.Event{Seq: int(e.Seq), Type: e.Type, ActorID: e.ActorID, At: e.At, Reason: e.Reason})
	}
	localizeAppeal(&st, s.loc)
	return st, nil
}

func localizeAppeal(st *workflows.AppealState, loc *time.Location) {
	st.Refresh(time.Now())
	st.DueAt = shownTime(st.DueAt, loc)
	st.ReminderAt = localTime(st.ReminderAt, loc)
	st.EscalatedAt = localTime(st.EscalatedAt, loc)
	for i := range st.Events {
		st.Events[i].At = shownTime(st.Events[i].At, loc)
	}
}

// GET /api/v1/appeals/{id}: stage, deadline, remaining, history.
func (s *Server) getAppeal(w http.ResponseWriter, r *http.Request) error {
	st, err := s.appealState(r, chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// appealCommand sends an Update to the appeal and answers with its new state.
func (s *Server) appealCommand(update string) func(w http.ResponseWriter, r *http.Request, arg any) error {
	return func(w http.ResponseWriter, r *http.Request, arg any) error {
		appealID := chi.URLParam(r, "id")
		assessmentID, _ := appealAssessmentID(appealID)
		var st workflows.AppealState
		err := s.sendUpdate(r, workflows.AppealWorkflowID(assessmentID), update, arg, &st, func() error {
			// The workflow has ended: the appeal was withdrawn or decided.
			if row, err := s.q.GetAppealRow(r.Context(), appealID); err == nil {
				return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: "the appeal is " + row.Status}
			}
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such appeal"}
		})
		if err != nil {
			return err
		}
		localizeAppeal(&st, s.loc)
		writeJSON(w, http.StatusOK, st)
		return nil
	}
}

func (s *Server) appealCommands() map[string]handlerFunc {
	return map[string]handlerFunc{
		"accept-explanation": commandHandler(s.appealCommand(workflows.UpdateAcceptExplanation), func(r *http.Request, b noteBody, errs fieldErrors) workflows.AcceptExplanationInput {
			return workflows.AcceptExplanationInput{Actor: principal(r).UserID, Note: optionalText(errs, "note", b.Note, input.Note)}
		}),
		"escalate": commandHandler(s.appealCommand(workflows.UpdateEscalateAppeal), func(r *http.Request, b reasonBody, errs fieldErrors) workflows.EscalateAppealInput {
			return workflows.EscalateAppealInput{Actor: principal(r).UserID, Reason: optionalText(errs, "reason", b.Reason, input.Note)}
		}),
		"decision": commandHandler(s.appealCommand(workflows.UpdateDecideAppeal), func(r *http.Request, b appealDecisionBody, errs fieldErrors) workflows.DecideAppealInput {
			in := workflows.DecideAppealInput{Actor: principal(r).UserID, Outcome: b.Outcome, Reason: textField(errs, "reason", b.Reason, input.Long)}
			switch b.Outcome {
			case workflows.AppealUpheld:
				score, err := scoring.ParseTenths(string(deref((*string)(b.CorrectedScore))))
				if b.CorrectedScore == nil || err != nil || score < 0 || score > 1000 {
					errs.add("corrected_score", "required when upheld: 0 to 100, one decimal")
				} else {
					in.CorrectedScore = &score
				}
			case workflows.AppealRejected:
				if b.CorrectedScore != nil {
					errs.add("corrected_score", "only with outcome upheld")
				}
			default:
				errs.add("outcome", "must be upheld or rejected")
			}
			return in
		}),
	}
}
