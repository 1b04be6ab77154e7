package server

import (
	"context"
	"crypto/rand"
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
	"golang.org/x/sync/errgroup"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

// Recorded recalculation (R2, last rule; issue 12 item 4). After a
// calendar override or a new complaint policy, an admin or an escalation
// officer previews which running complaints would change (old and new
// deadline per clock), then applies it to all of them or a chosen few,
// with a reason. Applying starts a Recalculation workflow, the batch, which
// sends each complaint an Update: the complaint moves its own deadlines and
// records who, when, why, old and new deadline in its audit trail. Nothing
// here edits a row.
//
// The rules a recalculation brings are the calendar overrides in force when
// it is requested and, when policy_version is given, that complaint policy
// (otherwise every case keeps its own). Deadlines are computed by the
// complaint workflow itself (its recalculation query), the one home of the
// arithmetic; the preview asks each running complaint, a few at a time.

// maxRecalcCases bounds one request's explicit list.
const maxRecalcCases = 10000

// previewConcurrency is how many complaints the preview asks at once.
const previewConcurrency = 8

type recalcRequest struct {
	Reason        string   `json:"reason"`
	ComplaintNos  []string `json:"complaint_nos"`  // none: every running complaint
	PolicyVersion *int     `json:"policy_version"` // none: each keeps its own policy
}

// recalcRules is what a request means: the cases, and the rules to send.
type recalcRules struct {
	cases    []string
	calendar []calendar.Override
	policy   *workflows.SLAPolicy
}

func (s *Server) recalcRules(ctx context.Context, req recalcRequest, errs fieldErrors) (recalcRules, error) {
	var rules recalcRules
	if len(req.ComplaintNos) > maxRecalcCases {
		errs.add("complaint_nos", fmt.Sprintf("at most %d", maxRecalcCases))
	}
	for i, no := range req.ComplaintNos {
		if p := input.Key(no); p != "" {
			errs.add(fmt.Sprintf("complaint_nos[%d]", i), p)
		}
	}
	if req.PolicyVersion != nil {
		p, err := policies.Version[workflows.SLAPolicy](ctx, s.policies, workflows.PolicyComplaint, *req.PolicyVersion)
		switch {
		case errors.Is(err, policies.ErrNoVersion):
			errs.add("policy_version", "no such complaint policy version")
		case err != nil:
			return rules, err
		default:
			rules.policy = &p
		}
	}
	if len(errs) > 0 {
		return rules, nil
	}
	var err error
	if rules.calendar, err = s.q.CalendarOverrides(ctx); err != nil {
		return rules, err
	}
	if len(req.ComplaintNos) > 0 {
		rules.cases = slices.Compact(slices.Sorted(slices.Values(req.ComplaintNos)))
		return rules, nil
	}
	rules.cases, err = s.q.ListRunningComplaints(ctx)
	return rules, err
}

// previewItem is one complaint that would change.
type previewItem struct {
	ComplaintNo string                  `json:"complaint_no"`
	Changes     []workflows.ClockChange `json:"changes"`
}

// POST /api/v1/recalculations/preview (admin, escalation officer): which
// running complaints the rules would change, and how. Changes nothing.
func (s *Server) previewRecalculation(w http.ResponseWriter, r *http.Request) error {
	var req recalcRequest
	if err := decodeOptional(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	rules, err := s.recalcRules(r.Context(), req, errs)
	if err != nil {
		return err
	}
	if err := errs.err(); err != nil {
		return err
	}
	changes := make([][]workflows.ClockChange, len(rules.cases))
	g, ctx := errgroup.WithContext(r.Context())
	g.SetLimit(previewConcurrency)
	ask := workflows.RecalculateInput{Calendar: rules.calendar, Policy: rules.policy}
	for i, no := range rules.cases {
		g.Go(func() error {
			v, err := s.temporal.QueryWorkflow(ctx, workflows.ComplaintWorkflowID(no), "", workflows.QueryRecalculation, ask)
			var missing *serviceerror.NotFound
			if errors.As(err, &missing) {
				return nil // ended since the list was made: nothing to move
			}
			if err != nil {
				return fmt.Errorf("preview %s: %w", no, err)
			}
			return v.Get(&changes[i])
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	out := struct {
		Running       int           `json:"running"`
		PolicyVersion *int          `json:"policy_version"`
		Items         []previewItem `json:"items"`
	}{Running: len(rules.cases), PolicyVersion: req.PolicyVersion, Items: []previewItem{}}
	for i, ch := range changes {
		if len(ch) > 0 {
			out.Items = append(out.Items, previewItem{ComplaintNo: rules.cases[i], Changes: s.localChanges(ch)})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) localChanges(ch []workflows.ClockChange) []workflows.ClockChange {
	out := make([]workflows.ClockChange, len(ch))
	for i, c := range ch {
		out[i] = workflows.ClockChange{Clock: c.Clock, OldDueAt: shownTime(c.OldDueAt, s.loc), NewDueAt: shownTime(c.NewDueAt, s.loc)}
	}
	return out
}

// POST /api/v1/recalculations (admin, escalation officer): apply, 202 with
// the batch's first report. With an Idempotency-Key the key is the batch's
// ID, so a retried request finds the batch it started.
func (s *Server) applyRecalculation(w http.ResponseWriter, r *http.Request) error {
	id := r.Header.Get(idempotencyKeyHeader)
	if p := input.ID(id); id != "" && p != "" {
		return badRequest(map[string]string{idempotencyKeyHeader: p})
	}
	if id == "" {
		id = strings.ToLower(rand.Text())
	}
	var req recalcRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	req.Reason = textField(errs, "reason", req.Reason, maxReasonLen)
	rules, err := s.recalcRules(r.Context(), req, errs)
	if err != nil {
		return err
	}
	if err := errs.err(); err != nil {
		return err
	}
	in := workflows.RecalculationInput{ID: id, Actor: principal(r).UserID, Reason: req.Reason, RequestedAt: time.Now(),
		ComplaintNos: rules.cases, Calendar: rules.calendar, Policy: rules.policy}
	_, err = s.temporal.ExecuteWorkflow(r.Context(), client.StartWorkflowOptions{
		ID:        workflows.RecalculationWorkflowID(id),
		TaskQueue: s.queue,
		// Tell "started now" from "exists" (a retry with the same key,
		// running or done): the answer differs (see below).
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.RecalculationWorkflowType, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	report := in.FirstReport() // started now: its report is known without asking a worker
	switch {
	case errors.As(err, &started): // a retry with the same key: the batch as it is
		if report, err = s.recalculation(r.Context(), id); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("start recalculation: %w", err)
	}
	s.localReport(&report)
	writeJSON(w, http.StatusAccepted, report)
	return nil
}

// GET /api/v1/recalculations/{id}: the progress, or the final report.
func (s *Server) getRecalculation(w http.ResponseWriter, r *http.Request) error {
	report, err := s.recalculation(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}

// recalculation is the batch's report: live from its workflow while it
// runs (and for the namespace's retention), else from PostgreSQL.
func (s *Server) recalculation(ctx context.Context, id string) (workflows.RecalculationReport, error) {
	var report workflows.RecalculationReport
	v, err := s.temporal.QueryWorkflow(ctx, workflows.RecalculationWorkflowID(id), "", workflows.QueryRecalculationReport)
	var missing *serviceerror.NotFound
	switch {
	case err == nil:
		err = v.Get(&report)
	case errors.As(err, &missing):
		var row []byte
		row, err = s.storedRecalculation(ctx, id)
		if err == nil {
			err = json.Unmarshal(row, &report)
		}
	}
	if err != nil {
		return report, err
	}
	s.localReport(&report)
	return report, nil
}

func (s *Server) storedRecalculation(ctx context.Context, id string) ([]byte, error) {
	row, err := s.q.GetRecalculation(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("recalculation")
	}
	return row.Report, err
}

func (s *Server) localReport(r *workflows.RecalculationReport) {
	r.RequestedAt = shownTime(r.RequestedAt, s.loc)
	r.FinishedAt = localTime(r.FinishedAt, s.loc)
	for i := range r.Items {
		r.Items[i].Changes = s.localChanges(r.Items[i].Changes)
	}
	if r.Items == nil {
		r.Items = []workflows.RecalculationItem{}
	}
}

// GET /api/v1/recalculations: the latest 50 batches, newest first.
func (s *Server) listRecalculations(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.q.ListRecalculations(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Items []workflows.RecalculationReport `json:"items"`
	}{Items: []workflows.RecalculationReport{}}
	for _, row := range rows {
		var rep workflows.RecalculationReport
		if err := json.Unmarshal(row.Report, &rep); err != nil {
			return fmt.Errorf("recalculation %s: %w", row.ID, err)
		}
		s.localReport(&rep)
		rep.Items = nil // the list is a summary; GET one for its cases
		out.Items = append(out.Items, rep)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
