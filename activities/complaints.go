package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/activities/webhook"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// SyncComplaint writes one state change of a Complaint workflow to
// PostgreSQL in one transaction: the read-model columns of the complaint,
// new events (R7), escalations (R3), the deduction proposal (R3, R4.4) and a
// survey (R4.1). The workflow calls it as a local activity after every
// change. It is idempotent: every insert is keyed (ON CONFLICT DO NOTHING)
// and the state columns are only written by a sync carrying a higher event
// seq than the one already applied, so a retry, or an older sync arriving
// after a newer one, changes nothing. Metrics count only rows that were new.
func (a *Activities) SyncComplaint(ctx context.Context, in workflows.ComplaintSync) error {
	return writeOrRefuse(ctx, a, "complaint", in, a.syncComplaint)
}

func (a *Activities) syncComplaint(ctx context.Context, in workflows.ComplaintSync) error {
	st := in.State
	no := st.ComplaintNo
	if err := validateSync(in); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidComplaintSync", nil)
	}

	// Every event we know: the state's trail and this sync's new ones.
	all := bySeq(st.Events, in.Events)
	cols, err := columnsOf(all)
	if err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidComplaintSync", nil)
	}
	lastSeq := cols.lastSeq()
	events := db.InsertComplaintEventsParams{ComplaintNo: no, Seqs: cols.Seqs, Types: cols.Types,
		ActorIds: cols.ActorIds, Ats: cols.Ats, Reasons: cols.Reasons, Datas: cols.Datas}

	var fresh []db.InsertComplaintEventsRow
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		n, err := q.UpdateComplaintState(ctx, stateParams(st, lastSeq))
		if err != nil {
			return fmt.Errorf("update complaint state: %w", err)
		}
		if n > 0 {
			// A reassignment moves the complaint's escalations to its new team.
			if err := q.FollowComplaintTeam(ctx, no); err != nil {
				return fmt.Errorf("escalations follow the team: %w", err)
			}
		}
		if n == 0 {
			// Either already at this seq or later (fine), or no intake row:
			// the server inserts it before starting the workflow, so that
			// is a bug; the retry keeps it visible in the workflow's UI.
			ok, err := q.ComplaintExists(ctx, no)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("complaint %s has no intake row", no)
			}
		}
		if len(events.Seqs) > 0 {
			if fresh, err = q.InsertComplaintEvents(ctx, events); err != nil {
				return fmt.Errorf("insert complaint events: %w", err)
			}
		}
		// R3: exactly one escalation per complaint, clock and level.
		seen := map[string]bool{}
		for _, e := range slices.Concat(st.Escalations, in.Escalations) {
			id := workflows.EscalationID(no, e.Clock, e.Level)
			if seen[id] {
				continue
			}
			seen[id] = true
			to := e.EscalatedTo
			if to == nil {
				to = []string{} // NOT NULL column; pgx sends a nil slice as NULL
			}
			if _, err := q.InsertEscalation(ctx, db.InsertEscalationParams{
				ID: id, ComplaintNo: no, Clock: string(e.Clock), Level: int32(e.Level),
				EscalatedAt: e.EscalatedAt, EscalatedTo: to,
			}); err != nil {
				return fmt.Errorf("insert escalation %s: %w", id, err)
			}
		}
		if d := in.Deduction; d != nil {
			// R3, R4.4: one proposal per complaint, whatever the retries.
			if _, err := q.InsertDeductionProposal(ctx, db.InsertDeductionProposalParams{
				EmployeeID: d.EmployeeID, ReasonCode: d.ReasonCode, Points: int32(d.Points),
				OccurredAt: d.OccurredAt, SourceComplaintNo: &no, ProposedBy: workflows.SystemActor,
				Note: "R3: first missed deadline of complaint " + no,
			}); err != nil {
				return fmt.Errorf("insert deduction proposal: %w", err)
			}
		}
		if s := in.Survey; s != nil {
			// R4.1: one survey per resolution.
			score := s.Score
			if score == 0 {
				score = s.Ratings.Score()
			}
			if _, err := q.InsertSurvey(ctx, db.InsertSurveyParams{
				ComplaintNo: no, Resolution: int32(s.Resolution), EmployeeID: s.EmployeeID,
				Attitude: int16(s.Ratings.Attitude), Speed: int16(s.Ratings.Speed), Quality: int16(s.Ratings.Quality),
				Parts: int16(s.Ratings.Parts), Cost: int16(s.Ratings.Cost), Score: score,
				SurveyedAt: s.SurveyedAt, RecordedBy: s.RecordedBy,
			}); err != nil {
				return fmt.Errorf("insert survey: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.Metrics.observe(st.ReceivedAt, fresh, all) // after commit: only what this sync added
	return nil
}

// validateSync refuses a sync whose parts name another complaint: retrying
// would not help.
func validateSync(in workflows.ComplaintSync) error {
	no := in.State.ComplaintNo
	if no == "" {
		return errors.New("complaint sync without complaint_no")
	}
	for _, e := range slices.Concat(in.State.Escalations, in.Escalations) {
		if e.ComplaintNo != "" && e.ComplaintNo != no {
			return fmt.Errorf("escalation of %s in the sync of %s", e.ComplaintNo, no)
		}
	}
	if d := in.Deduction; d != nil && d.ComplaintNo != "" && d.ComplaintNo != no {
		return fmt.Errorf("deduction of %s in the sync of %s", d.ComplaintNo, no)
	}
	if s := in.Survey; s != nil && s.ComplaintNo != "" && s.ComplaintNo != no {
		return fmt.Errorf("survey of %s in the sync of %s", s.ComplaintNo, no)
	}
	return nil
}

// stateParams maps the workflow state to the read-model columns.
func stateParams(st workflows.ComplaintState, lastSeq int) db.UpdateComplaintStateParams {
	p := db.UpdateComplaintStateParams{
		ComplaintNo: st.ComplaintNo, Status: string(st.Status),
		AssigneeID: st.AssigneeID, TeamID: st.TeamID,
		ResolvedAt: st.ResolvedAt, FirstTimeFix: st.FirstTimeFix,
		LastSeq: int32(lastSeq),
	}
	p.CountedFor = countedFor(st.Events)
	open := st.Status == workflows.StatusOpen || st.Status == workflows.StatusReopened
	for _, c := range st.Clocks {
		due := &c.DueAt
		if c.DueAt.IsZero() {
			due = nil
		}
		switch c.Name {
		case workflows.ClockContact:
			p.ContactDueAt, p.ContactMetAt, p.ContactWarnAt, p.ContactLevel2At = due, c.MetAt, c.WarnAt, c.Level2DueAt
		case workflows.ClockPlan:
			p.PlanDueAt, p.PlanMetAt, p.PlanWarnAt, p.PlanLevel2At = due, c.MetAt, c.WarnAt, c.Level2DueAt
		case workflows.ClockResolution:
			p.ResolutionDueAt, p.ResolutionMetAt, p.ResolutionWarnAt, p.ResolutionLevel2At = due, c.MetAt, c.WarnAt, c.Level2DueAt
			p.ResolutionPaused = c.Paused
		}
		p.Breached = p.Breached || c.Breached
	}
	// next_due_at: the earliest running clock's deadline, overdue ones
	// included, so due_before finds them.
	if open {
		p.NextDueAt = workflows.NextDue(st.Clocks)
	}
	return p
}

// countedFor is R4.0's employee of a complaint: the assignee at its first
// missed clock, or, when it missed none, at its first resolution; nil
// until either happens. It is derived from the whole trail on every sync.
func countedFor(events []workflows.Event) *string {
	var resolvedBy *string
	for _, e := range events {
		who, _ := e.Data["assignee"].(string)
		if who == "" {
			continue
		}
		switch e.Type {
		case workflows.EventBreached:
			return &who
		case workflows.EventResolved:
			if resolvedBy == nil {
				resolvedBy = &who
			}
		}
	}
	return resolvedBy
}

// notifyTimeout bounds one webhook delivery; Temporal's retry policy (set by
// the workflow) does the backoff between attempts.
const notifyTimeout = 10 * time.Second

var defaultHTTPClient = &http.Client{Timeout: notifyTimeout}

// Notify delivers a warning or escalation notice (R3). Without WebhookURL it
// logs one structured line; with it, it POSTs n as JSON with the header
// Idempotency-Key: n.Key (see deliver). The notice carries ids and times
// only, never the customer's name or phone (R7).
func (a *Activities) Notify(ctx context.Context, n workflows.Notification) error {
	return a.deliver(ctx, "complaint", n.Key, n, "complaint notification",
		"kind", n.Kind, "complaint_no", n.ComplaintNo, "clock", string(n.Clock), "level", n.Level,
		"recipients", n.Recipients, "due_at", n.DueAt, "key", n.Key)
}

// deliver is the delivery of every notice (complaints' Notify, appeals'
// NotifyAppeal, rewards' NotifyReward). Without WebhookURL it logs msg with
// attrs; with it, it POSTs notice as JSON with the header Idempotency-Key:
// key (the same on every retry, so the receiver can drop duplicates) and
// the Standard Webhooks headers (package webhook): webhook-id derived from
// source and key, so it too is the same on every retry; webhook-timestamp,
// this attempt's time, so a receiver's replay window measures the attempt,
// not the notice; webhook-signature, one v1 HMAC per WebhookSecrets entry.
// Non-2xx answers are retryable errors, except a 4xx other than 408 and
// 429, which retrying cannot fix.
func (a *Activities) deliver(ctx context.Context, source, key string, notice any, msg string, attrs ...any) error {
	if a.WebhookURL == "" {
		a.logger().InfoContext(ctx, msg, attrs...)
		return nil
	}
	body, err := json.Marshal(notice)
	if err != nil {
		return temporal.NewNonRetryableApplicationError("encode notification: "+err.Error(), "InvalidNotification", nil)
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return temporal.NewNonRetryableApplicationError("notification webhook: bad URL", "WebhookConfig", nil)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	// Signed last, over exactly the bytes sent.
	webhook.Sign(req.Header, webhook.MessageID(source, key), time.Now(), body, a.WebhookSecrets)
	client := a.HTTPClient
	if client == nil {
		client = defaultHTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The URL may hold a secret token: keep it out of the error, which
		// Temporal stores in the workflow's history.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notification webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("notification webhook answered %d", code), "WebhookRejected", nil)
	default:
		return temporal.NewApplicationError(fmt.Sprintf("notification webhook answered %d", code), "WebhookFailed")
	}
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
