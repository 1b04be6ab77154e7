package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
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
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,19}$`)

// maxBackdate bounds a back-dated received_at: older complaints belong in a
// data migration, not the live SLA process.
const maxBackdate = 90 * 24 * time.Hour

type customerBody struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

type createComplaintRequest struct {
	ComplaintNo string       `json:"complaint_no"`
	Customer    customerBody `json:"customer"`
	Product     string       `json:"product"`
	Category    string       `json:"category"`
	Description string       `json:"description"`
	AssigneeID  string       `json:"assignee_id"`
	ReceivedAt  *time.Time   `json:"received_at"`
}

// POST /api/v1/complaints: create, idempotent on complaint_no (api.md).
//
// The intake row (with the customer's personal data, R7) is written first,
// then the workflow is started with an ID derived from the number and
// "use existing" on conflict. A retry of a create that failed between the
// two therefore completes it instead of duplicating anything.
func (s *Server) createComplaint(w http.ResponseWriter, r *http.Request) error {
	var req createComplaintRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	validNo := keyField(errs, "complaint_no", req.ComplaintNo)
	req.Customer.Name = lineField(errs, "customer.name", req.Customer.Name, input.Name, true)
	req.Customer.Phone = strings.TrimSpace(req.Customer.Phone)
	if !phonePattern.MatchString(req.Customer.Phone) {
		errs.add("customer.phone", "required: 5-20 digits, spaces or dashes, optionally after +")
	}
	req.Product = lineField(errs, "product", req.Product, input.Name, true)
	req.Category = lineField(errs, "category", req.Category, input.Name, true)
	req.Description = textField(errs, "description", req.Description, input.Long)
	now := time.Now()
	// Whole seconds (issue 13 item 7): the receipt is what the contact and
	// plan deadlines count from (R3), and every answer shows it.
	receivedAt := now.Truncate(time.Second)
	if req.ReceivedAt != nil {
		receivedAt = req.ReceivedAt.Truncate(time.Second)
		switch {
		case receivedAt.After(now.Add(time.Minute)): // a minute of clock skew
			errs.add("received_at", "must not be in the future")
		case receivedAt.Before(now.Add(-maxBackdate)):
			errs.add("received_at", "must be within the last 90 days")
		}
	}
	assignee := s.placeAgent(r.Context(), errs, "assignee_id", req.AssigneeID)
	hash := requestHash(req)
	same := func(stored []byte) bool {
		legacy := legacyRequestHash(req)
		return string(stored) == string(hash[:]) || string(stored) == string(legacy[:])
	}

	// A retry of an accepted create is answered from what exists, even if
	// the body would no longer pass (say, received_at is now over 90 days old).
	var existing *db.GetComplaintIntakeRow
	if validNo {
		e, err := s.q.GetComplaintIntake(r.Context(), req.ComplaintNo)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil {
			existing = &e
		}
	}
	if existing == nil || !same(existing.RequestHash) {
		if err := errs.err(); err != nil {
			return err
		}
	}
	created := false
	var policyVersion int32 // the version in force at receipt, fixed by the insert (migration 00016)
	if existing == nil {
		row, err := s.q.InsertComplaintIntake(r.Context(), db.InsertComplaintIntakeParams{
			ComplaintNo: req.ComplaintNo, RequestHash: hash[:], CustomerName: req.Customer.Name, CustomerPhone: req.Customer.Phone,
			Product: req.Product, Category: req.Category, Description: req.Description,
			AssigneeID: assignee.ID, TeamID: assignee.TeamID, ReceivedAt: receivedAt, CreatedBy: principal(r).UserID,
		})
		switch {
		case err == nil:
			created, policyVersion = true, row.PolicyVersion
		case errors.Is(err, pgx.ErrNoRows): // a concurrent create won the race
			e, err := s.q.GetComplaintIntake(r.Context(), req.ComplaintNo)
			if err != nil {
				return err
			}
			existing = &e
		default:
			return err
		}
	}
	if existing != nil {
		if !same(existing.RequestHash) {
			return &apiError{Status: http.StatusConflict, Code: "complaint_exists",
				Message: "complaint " + req.ComplaintNo + " already exists with a different body"}
		}
		if existing.Status == string(workflows.StatusClosed) {
			// Closed: never start it again; answer with what it was.
			st, err := s.complaintState(r.Context(), req.ComplaintNo)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, st)
			return nil
		}
	}
	intake := db.GetComplaintIntakeRow{ComplaintNo: req.ComplaintNo, AssigneeID: assignee.ID, TeamID: assignee.TeamID,
		ReceivedAt: receivedAt, CreatedBy: principal(r).UserID, PolicyVersion: policyVersion}
	if existing != nil {
		// What was stored: received_at may have defaulted to "now", and the
		// workflow (if a failure kept it from starting) belongs to the creator.
		intake = *existing
	}
	var st workflows.ComplaintState
	if err := s.startComplaint(r.Context(), intake, assignee, &st); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, st)
	return nil
}

// startComplaint starts the workflow of a stored intake row, or finds it
// running: the second half of a create, shared by createComplaint and the
// reconciler (reconcile.go), which completes creates interrupted between
// the two halves. assignee is the assignee's placement.
//
// With out, it starts the workflow and asks for its state in one round
// trip (Update-With-Start of UpdateCreated): the answer is the state after
// the workflow's first task, with the read model written.
func (s *Server) startComplaint(ctx context.Context, c db.GetComplaintIntakeRow, assignee db.GetUserPlacementRow, out *workflows.ComplaintState) error {
	overrides, err := s.q.CalendarOverrides(ctx)
	if err != nil {
		return err
	}
	// The version the intake row was given: in force at receipt (R2).
	policy, err := policies.Version[workflows.SLAPolicy](ctx, s.policies, workflows.PolicyComplaint, int(c.PolicyVersion))
	if err != nil {
		return err
	}
	in := workflows.ComplaintInput{
		ComplaintNo: c.ComplaintNo, AssigneeID: c.AssigneeID, TeamID: c.TeamID,
		ManagerID: escalationManager(assignee), HeadID: assignee.HeadID, ReceivedAt: c.ReceivedAt,
		CreatedBy: c.CreatedBy, Policy: policy, Calendar: overrides, Location: s.loc.String(),
	}
	opts := client.StartWorkflowOptions{
		ID:                       workflows.ComplaintWorkflowID(c.ComplaintNo),
		TaskQueue:                s.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A closed complaint is never started again under the same number.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// What the Temporal Web UI shows for the workflow (issue 13 item 5):
		// which complaint, and the SLA policy it runs by. No personal data (R7).
		StaticSummary: in.StaticSummary(),
		StaticDetails: in.StaticDetails(),
	}
	if out != nil {
		h, err := s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: s.temporal.NewWithStartWorkflowOperation(opts, workflows.ComplaintWorkflowType, in),
			UpdateOptions: client.UpdateWorkflowOptions{
				WorkflowID: opts.ID, UpdateName: workflows.UpdateCreated, WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
		if err == nil {
			err = h.Get(ctx, out)
		}
		var closed *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case errors.As(err, &closed): // closed since: answer with what it was
			*out, err = s.complaintState(ctx, c.ComplaintNo)
			return err
		case err != nil:
			return fmt.Errorf("start complaint workflow: %w", err)
		}
		return s.finishState(ctx, out)
	}
	_, err = s.temporal.ExecuteWorkflow(ctx, opts, workflows.ComplaintWorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start complaint workflow: %w", err)
	}
	return nil
}

// requestHash fingerprints a create body for idempotency: the same number
// with the same body is a retry, with another body a conflict. received_at
// counts as the instant it names (issue 13 item 7): the same instant
// written with another offset is the same request.
func requestHash(req createComplaintRequest) [32]byte {
	if req.ReceivedAt != nil {
		utc := req.ReceivedAt.UTC()
		req.ReceivedAt = &utc // req is a copy; the caller's instant is left alone
	}
	b, _ := json.Marshal(req)
	return sha256.Sum256(b)
}

// legacyRequestHash is requestHash as intake rows written before it have
// it (received_at with the client's offset): a retry of such a create is
// still recognised as one.
func legacyRequestHash(req createComplaintRequest) [32]byte {
	b, _ := json.Marshal(req)
	return sha256.Sum256(b)
}

// placeAgent looks up an assignee: an active agent with a team (R3: a
// complaint is assigned to one agent).
func (s *Server) placeAgent(ctx context.Context, errs fieldErrors, field, id string) db.GetUserPlacementRow {
	return s.placeEmployee(ctx, errs, field, id, auth.Agent, "R3: a complaint is assigned to one agent")
}

// escalationManager is who gets level 1 for this assignee (R3): their team
// supervisor, or the department head where the team has none (R1).
func escalationManager(u db.GetUserPlacementRow) string {
	if u.ManagerID != "" {
		return u.ManagerID
	}
	return u.HeadID
}

// complaintState queries the workflow for the live state (api.md's GET),
// with remaining_seconds as of now and acknowledgements from PostgreSQL.
func (s *Server) complaintState(ctx context.Context, no string) (workflows.ComplaintState, error) {
	var st workflows.ComplaintState
	v, err := s.temporal.QueryWorkflow(ctx, workflows.ComplaintWorkflowID(no), "", workflows.QueryState)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return s.archivedState(ctx, no)
	}
	if err != nil {
		return st, fmt.Errorf("query complaint %s: %w", no, err)
	}
	if err := v.Get(&st); err != nil {
		return st, err
	}
	return st, s.finishState(ctx, &st)
}

// finishState adds what the workflow does not track: acknowledgements are
// recorded in PostgreSQL by the escalations endpoint.
func (s *Server) finishState(ctx context.Context, st *workflows.ComplaintState) error {
	st.Refresh(time.Now())
	for i, e := range st.Escalations {
		row, err := s.q.GetEscalation(ctx, e.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // not yet written by the sync activity
		}
		if err != nil {
			return err
		}
		st.Escalations[i].AcknowledgedAt, st.Escalations[i].AcknowledgedBy = row.AcknowledgedAt, row.AcknowledgedBy
	}
	localize(st, s.loc)
	if st.Events == nil {
		st.Events = []workflows.Event{}
	}
	if st.Escalations == nil {
		st.Escalations = []workflows.Escalation{}
	}
	return nil
}

// archivedState answers for a complaint Temporal no longer has (closed, and
// past the namespace's retention) from the read model, which keeps the
// same facts: clocks, escalations and the whole audit trail (R7).
func (s *Server) archivedState(ctx context.Context, no string) (workflows.ComplaintState, error) {
	var st workflows.ComplaintState
	row, err := s.q.GetComplaintReadModel(ctx, no)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such complaint"}
	}
	if err != nil {
		return st, err
	}
	sum := s.summaryOf(db.ListComplaintsRow(row), time.Now())
	st = workflows.ComplaintState{
		ComplaintNo: sum.ComplaintNo, Status: workflows.ComplaintStatus(sum.Status), AssigneeID: sum.AssigneeID, TeamID: sum.TeamID,
		ReceivedAt: sum.ReceivedAt, ResolvedAt: sum.ResolvedAt, FirstTimeFix: sum.FirstTimeFix, Clocks: sum.Clocks,
		NextDueAt: sum.NextDueAt, AsOf: shownTime(time.Now(), s.loc), Escalations: []workflows.Escalation{}, Events: []workflows.Event{},
		PolicyVersion: int(row.PolicyVersion),
	}
	escs, err := s.q.ListComplaintEscalations(ctx, no)
	if err != nil {
		return st, err
	}
	for _, e := range escs {
		st.Escalations = append(st.Escalations, escalationRow{ID: e.ID, ComplaintNo: e.ComplaintNo, Clock: e.Clock, Level: e.Level,
			EscalatedAt: e.EscalatedAt, EscalatedTo: e.EscalatedTo, AcknowledgedAt: e.AcknowledgedAt, AcknowledgedBy: e.AcknowledgedBy}.toItem(s.loc).Escalation)
	}
	events, err := s.q.ListComplaintEvents(ctx, no)
	if err != nil {
		return st, err
	}
	for _, e := range events {
		ev := workflows.Event{Seq: int(e.Seq), Type: e.Type, ActorID: e.ActorID, At: shownTime(e.At, s.loc), Reason: e.Reason}
		if len(e.Data) > 0 {
			_ = json.Unmarshal(e.Data, &ev.Data)
		}
		st.Events = append(st.Events, ev)
	}
	localize(&st, s.loc)
	return st, nil
}

// missingComplaint explains a workflow Temporal does not know: 404 for an
// unknown number; for a known one, its workflow has ended (closed, and past
// the namespace's retention), so it takes no more commands.
func (s *Server) missingComplaint(ctx context.Context, no string) error {
	// Unknown, or its create was interrupted before the workflow started
	// (not visible until the reconciler starts it): 404.
	if _, err := s.q.GetComplaintReadModel(ctx, no); errors.Is(err, pgx.ErrNoRows) {
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such complaint"}
	} else if err != nil {
		return err
	}
	return &apiError{Status: http.StatusConflict, Code: "invalid_state", Message: "the complaint is closed"}
}

// localize shows every instant of st in the calendar's zone (api.md: RFC
// 3339 with offset), whatever zone the client sent, to the whole second
// (issue 13 item 7). Complaints started since record whole seconds
// (workflows.wholeSecond) and their instants pass unchanged; this rounds
// down what older runs and the read model's rows hold, for display only:
// the clocks were judged by the workflow on the exact instants, and
// remaining_seconds (Refresh) is computed before.
func localize(st *workflows.ComplaintState, loc *time.Location) {
	in := func(t *time.Time) {
		if t != nil && !t.IsZero() {
			*t = shownTime(*t, loc)
		}
	}
	in(&st.ReceivedAt)
	in(st.ResolvedAt)
	in(st.NextDueAt)
	in(&st.AsOf)
	for i := range st.Clocks {
		c := &st.Clocks[i]
		in(&c.DueAt)
		in(c.MetAt)
		in(c.PausedAt)
		in(c.WarnedAt)
		in(c.WarnAt)
		in(c.Level2DueAt)
	}
	for i := range st.Escalations {
		in(&st.Escalations[i].EscalatedAt)
		in(st.Escalations[i].AcknowledgedAt)
	}
	for i := range st.Events {
		in(&st.Events[i].At)
	}
}

// complaintResource loads who a complaint belongs to, for Access rules: its
// team, and as owners the assignee (and, for reading, its creator).
func (s *Server) complaintResource(withCreator bool) func(*http.Request) (Resource, error) {
	return func(r *http.Request) (Resource, error) {
		c, err := s.q.GetComplaintIntake(r.Context(), chi.URLParam(r, "no"))
		if errors.Is(err, pgx.ErrNoRows) {
			return Resource{}, &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no such complaint"}
		}
		if err != nil {
			return Resource{}, err
		}
		res := Resource{TeamIDs: []string{c.TeamID}, OwnerIDs: []string{c.AssigneeID}}
		if withCreator {
			res.OwnerIDs = append(res.OwnerIDs, c.CreatedBy)
		}
		return res, nil
	}
}

// GET /api/v1/complaints/{no}: the live state.
//
// When the live state cannot be had in time (no worker answers, Temporal
// is down), the answer comes from the read model, the same facts as of
// their last write, marked with the header X-State-Source: read-model: a
// manager asking where a case stands gets an answer rather than a 503.
func (s *Server) getComplaint(w http.ResponseWriter, r *http.Request) error {
	no := chi.URLParam(r, "no")
	// Half the request's time for the live query, the rest for the fallback.
	qctx, cancel := context.WithTimeout(r.Context(), s.timeout/2)
	defer cancel()
	st, err := s.complaintState(qctx, no)
	if err != nil && (qctx.Err() != nil || temporalDown(err)) && r.Context().Err() == nil {
		if fallback, ferr := s.archivedState(r.Context(), no); ferr == nil {
			w.Header().Set("X-State-Source", "read-model")
			st, err = fallback, nil
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// complaintCommand sends an Update to the complaint's workflow and answers
// with the new state. A closed complaint's workflow has ended: 409.
func (s *Server) complaintCommand(update string) func(w http.ResponseWriter, r *http.Request, arg any) error {
	return func(w http.ResponseWriter, r *http.Request, arg any) error {
		no := chi.URLParam(r, "no")
		var st workflows.ComplaintState
		err := s.sendUpdate(r, workflows.ComplaintWorkflowID(no), update, arg, &st,
			func() error { return s.missingComplaint(r.Context(), no) })
		if err != nil {
			return err
		}
		if err := s.finishState(r.Context(), &st); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	}
}

func (s *Server) complaintCommands() map[string]handlerFunc {
	me := func(r *http.Request) string { return principal(r).UserID }
	return map[string]handlerFunc{
		"contact": commandHandler(s.complaintCommand(workflows.UpdateContact), func(r *http.Request, b contactBody, errs fieldErrors) workflows.ContactInput {
			if b.ContactedAt != nil && b.ContactedAt.After(time.Now().Add(time.Minute)) {
				errs.add("contacted_at", "must not be in the future")
			}
			return workflows.ContactInput{Actor: me(r), Note: textField(errs, "note", b.Note, input.Note), ContactedAt: b.ContactedAt}
		}),
		"plan": commandHandler(s.complaintCommand(workflows.UpdatePlan), func(r *http.Request, b planBody, errs fieldErrors) workflows.PlanInput {
			return workflows.PlanInput{Actor: me(r), Plan: textField(errs, "plan", b.Plan, input.Long)}
		}),
		"resolve": commandHandler(s.complaintCommand(workflows.UpdateResolve), func(r *http.Request, b resolveBody, errs fieldErrors) workflows.ResolveInput {
			return workflows.ResolveInput{Actor: me(r), Resolution: textField(errs, "resolution", b.Resolution, input.Long)}
		}),
		"pause": commandHandler(s.complaintCommand(workflows.UpdatePause), func(r *http.Request, b reasonBody, errs fieldErrors) workflows.PauseInput {
			return workflows.PauseInput{Actor: me(r), Reason: textField(errs, "reason", b.Reason, input.Note)}
		}),
		"resume": commandHandler(s.complaintCommand(workflows.UpdateResume), func(r *http.Request, _ noBody, _ fieldErrors) workflows.ResumeInput {
			return workflows.ResumeInput{Actor: me(r)}
		}),
		"reassign": commandHandler(s.complaintCommand(workflows.UpdateReassign), func(r *http.Request, b reassignBody, errs fieldErrors) workflows.ReassignInput {
			// The new assignee's team and managers are the directory's.
			u := s.placeAgent(r.Context(), errs, "assignee_id", b.AssigneeID)
			return workflows.ReassignInput{Actor: me(r), AssigneeID: b.AssigneeID, TeamID: u.TeamID, ManagerID: escalationManager(u),
				HeadID: u.HeadID, Reason: textField(errs, "reason", b.Reason, input.Note)}
		}),
		"extend": commandHandler(s.complaintCommand(workflows.UpdateExtend), func(r *http.Request, b extendBody, errs fieldErrors) workflows.ExtendInput {
			switch b.Clock {
			case workflows.ClockContact, workflows.ClockPlan, workflows.ClockResolution:
			default:
				errs.add("clock", "must be contact, plan or resolution")
			}
			in := workflows.ExtendInput{Actor: me(r), Clock: b.Clock, Reason: textField(errs, "reason", b.Reason, input.Note)}
			if b.DueAt == nil {
				errs.add("due_at", "required, an RFC 3339 instant")
			} else if p := input.Horizon(*b.DueAt, time.Now()); p != "" {
				errs.add("due_at", p)
			} else {
				in.DueAt = *b.DueAt
			}
			return in
		}),
		"reopen": commandHandler(s.complaintCommand(workflows.UpdateReopen), func(r *http.Request, b reasonBody, errs fieldErrors) workflows.ReopenInput {
			return workflows.ReopenInput{Actor: me(r), Reason: textField(errs, "reason", b.Reason, input.Note)}
		}),
		"survey": commandHandler(s.gatedSurvey(s.complaintCommand(workflows.UpdateSurvey)), func(r *http.Request, b surveyBody, errs fieldErrors) workflows.SurveyInput {
			if field, bad := b.Ratings.Invalid(); bad {
				errs.add("ratings."+field, "required, 1 (very dissatisfied) to 5 (very satisfied)")
			}
			if b.SurveyedAt != nil && b.SurveyedAt.After(time.Now().Add(time.Minute)) {
				errs.add("surveyed_at", "must not be in the future")
			}
			return workflows.SurveyInput{Actor: me(r), Ratings: b.Ratings, SurveyedAt: b.SurveyedAt}
		}),
	}
}

// gatedSurvey lets a survey into its month only while that month's results
// may still change (R4.0, R4.5; see gate), and has a published month
// recomputed once it is recorded.
func (s *Server) gatedSurvey(send func(w http.ResponseWriter, r *http.Request, arg any) error) func(w http.ResponseWriter, r *http.Request, arg any) error {
	return func(w http.ResponseWriter, r *http.Request, arg any) error {
		in := arg.(workflows.SurveyInput)
		at := time.Now()
		if in.SurveyedAt != nil {
			at = *in.SurveyedAt
		}
		gates, err := s.gate(r.Context(), at)
		if err != nil {
			return err
		}
		// The survey is written by the complaint's workflow, so its
		// recompute request comes first: should the signal below be lost,
		// the reconciler signals the cycle once the request is a little
		// old, by when the survey is stored.
		if err := requestRecompute(r.Context(), s.q, gates); err != nil {
			return err
		}
		if err := send(w, r, arg); err != nil {
			return err
		}
		s.recompute(r.Context(), gates)
		return nil
	}
}

// complaintItem is a complaint of GET /complaints, from the read model.
type complaintItem struct {
	ComplaintNo  string            `json:"complaint_no"`
	Status       string            `json:"status"`
	AssigneeID   string            `json:"assignee_id"`
	TeamID       string            `json:"team_id"`
	ReceivedAt   time.Time         `json:"received_at"`
	ResolvedAt   *time.Time        `json:"resolved_at"`
	FirstTimeFix bool              `json:"first_time_fix"`
	Breached     bool              `json:"breached"`
	NextDueAt    *time.Time        `json:"next_due_at"`
	Clocks       []workflows.Clock `json:"clocks"`
}

// summaryOf turns a read-model row into a list item. The read model keeps
// each clock's current deadline and met time; a clock is breached when it
// was met late or is unmet past its deadline. A paused resolution clock is
// never breached while paused (R3: pause time does not count) and its
// remaining time is not counted down here (the live GET has the exact value).
func (s *Server) summaryOf(c db.ListComplaintsRow, now time.Time) complaintItem {
	item := complaintItem{
		ComplaintNo: c.ComplaintNo, Status: c.Status, AssigneeID: c.AssigneeID, TeamID: c.TeamID,
		ReceivedAt: shownTime(c.ReceivedAt, s.loc), ResolvedAt: localTime(c.ResolvedAt, s.loc), FirstTimeFix: c.FirstTimeFix,
		Breached: c.Breached, NextDueAt: localTime(c.NextDueAt, s.loc), Clocks: []workflows.Clock{},
	}
	for _, k := range []struct {
		name     workflows.ClockName
		due, met *time.Time
		paused   bool
	}{
		{workflows.ClockContact, c.ContactDueAt, c.ContactMetAt, false},
		{workflows.ClockPlan, c.PlanDueAt, c.PlanMetAt, false},
		{workflows.ClockResolution, c.ResolutionDueAt, c.ResolutionMetAt, c.ResolutionPaused && c.ResolutionMetAt == nil},
	} {
		if k.due == nil {
			continue
		}
		clk := workflows.Clock{Name: k.name, DueAt: shownTime(*k.due, s.loc), MetAt: localTime(k.met, s.loc), Paused: k.paused}
		clk.Settle(now)
		item.Clocks = append(item.Clocks, clk)
	}
	return item
}

type complaintCursor struct {
	ReceivedAt time.Time `json:"r"`
	No         string    `json:"n"`
}

// GET /api/v1/complaints: exact lists from the read model. A manager sees
// only the teams they manage (R7).
func (s *Server) listComplaints(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListComplaintsParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("status"); v != "" {
		switch workflows.ComplaintStatus(v) {
		case workflows.StatusOpen, workflows.StatusResolved, workflows.StatusReopened, workflows.StatusClosed:
			p.Status = &v
		default:
			errs.add("status", "must be open, resolved, reopened or closed")
		}
	}
	if v := q.Get("assignee_id"); v != "" {
		p.AssigneeID = &v
	}
	if v := q.Get("team_id"); v != "" {
		p.TeamID = &v
	}
	if v := q.Get("breached"); v != "" {
		b := v == "true"
		if v != "true" && v != "false" {
			errs.add("breached", "must be true or false")
		}
		p.Breached = &b
	}
	if v := q.Get("due_before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs.add("due_before", "must be an RFC 3339 instant with offset")
		}
		p.DueBefore = &t
	}
	var cur complaintCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterReceivedAt, p.AfterNo = &cur.ReceivedAt, &cur.No
	}
	if err := errs.err(); err != nil {
		return err
	}
	if me := principal(r); !me.Has(auth.HR, auth.EscalationOfficer) {
		p.TeamIds = append([]string{}, me.ManagedTeams...)
	}
	rows, err := s.q.ListComplaints(r.Context(), p)
	if err != nil {
		return err
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(c db.ListComplaintsRow) any { return complaintCursor{ReceivedAt: c.ReceivedAt, No: c.ComplaintNo} },
		func(c db.ListComplaintsRow) complaintItem { return s.summaryOf(c, now) }))
	return nil
}
