package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// The activities of the RewardApproval workflow (R5), by the names of
// workflows/reward_contract.go: RecordReward writes the read model (the
// approvers' inbox), the audit trail (R7) and the one payout (R5.3);
// NotifyReward delivers reminders, escalations and news.

// errInvalidReward is the error type of RecordReward's non-retryable failures.
const errInvalidReward = "InvalidRewardRecord"

var (
	rewardStatuses = []workflows.RewardStatus{workflows.RewardPending, workflows.RewardReturned, workflows.RewardRejected,
		workflows.RewardWithdrawn, workflows.RewardApproved, workflows.RewardPaid}
	rewardKinds = []workflows.RewardKind{workflows.KindCash, workflows.KindHonour, workflows.KindTraining, workflows.KindPromotion}
	rewardSteps = []workflows.Step{workflows.StepManager, workflows.StepHR, workflows.StepCommittee, workflows.StepPayout}
)

// RecordReward writes one state change of a reward (R5) in one transaction:
// the rewards row from rec.State (only when it carries a higher event seq
// than the one stored, so a retry, or an older record arriving after a
// newer one, changes nothing), the state's events not yet stored
// (append-only, R7), and with rec.Payout the reward's one payout row (R5.3:
// the primary key backs "exactly one"; a second insert does nothing). A
// nomination without an intake row (not made over HTTP, e.g. a CSI service
// star, R5.2) gets its row here. The metrics count only what was new.
func (a *Activities) RecordReward(ctx context.Context, rec workflows.RewardRecord) error {
	return writeOrRefuse(ctx, a, "reward", rec, a.recordReward)
}

func (a *Activities) recordReward(ctx context.Context, rec workflows.RewardRecord) error {
	st := rec.State
	if err := validateReward(rec); err != nil {
		return invalid(errInvalidReward, "%v", err)
	}
	no := st.NominationNo

	// Every event of the state; the last one is the change recorded.
	cols, err := columnsOf(bySeq(st.Events))
	if err != nil {
		return invalid(errInvalidReward, "%v", err)
	}
	lastSeq, changedAt := cols.lastSeq(), time.Now()
	if len(cols.Ats) > 0 {
		changedAt = cols.Ats[len(cols.Ats)-1]
	}
	events := db.InsertRewardEventsParams{NominationNo: no, Seqs: cols.Seqs, Types: cols.Types,
		ActorIds: cols.ActorIds, Ats: cols.Ats, Reasons: cols.Reasons, Datas: cols.Datas}
	approvals := st.Approvals
	if approvals == nil {
		approvals = []workflows.Approval{}
	}
	approvalsJSON, err := json.Marshal(approvals)
	if err != nil {
		return invalid(errInvalidReward, "approvals are not JSON: %v", err)
	}
	var step *string
	if st.Step != nil {
		s := string(*st.Step)
		step = &s
	}
	var assessment *string
	if st.AssessmentID != "" {
		assessment = &st.AssessmentID
	}
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{} // NOT NULL columns; pgx sends a nil slice as NULL
		}
		return s
	}

	var fresh rewardChange
	err = pgx.BeginFunc(ctx, a.Pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		old, err := q.LockReward(ctx, no)
		if errors.Is(err, pgx.ErrNoRows) {
			// No intake row: a nomination the server did not create.
			createdAt := changedAt
			if len(events.Ats) > 0 {
				createdAt = events.Ats[0]
			}
			var since *time.Time
			if rewardOpen(st) {
				since = &changedAt
			}
			n, err := q.InsertRewardRecord(ctx, db.InsertRewardRecordParams{
				NominationNo: no, NomineeID: st.NomineeID, NominatorID: st.NominatorID, Kind: string(st.Kind),
				AmountFen: st.AmountFen, Reason: st.Reason, AssessmentID: assessment, CreatedAt: createdAt,
				Status: string(st.Status), Step: step, StepRole: st.StepRole, Awaiting: nonNil(st.Awaiting),
				Excluded: nonNil(st.Excluded), DueAt: st.DueAt, StepSince: since, Round: int32(max(st.Round, 1)),
				NeedsCommittee: st.NeedsCommittee, Approvals: approvalsJSON, LastSeq: int32(lastSeq),
			})
			if err != nil {
				return fmt.Errorf("insert reward %s: %w", no, err)
			}
			if n == 1 {
				fresh = rewardChange{nominated: true, entered: st.Status != workflows.RewardPending}
			}
			if old, err = q.LockReward(ctx, no); err != nil { // inserted now, or by a concurrent record
				return err
			}
			if n == 1 {
				old.LastSeq.Int32, old.LastSeq.Valid = int32(lastSeq), true // nothing left to update
			}
		} else if err != nil {
			return err
		}
		if !old.LastSeq.Valid || old.LastSeq.Int32 < int32(lastSeq) {
			// The step's start: kept while the step (of this round) goes on.
			since := old.StepSince
			stepChanged := !rewardOpen(st) || old.Step == nil || step == nil || *old.Step != *step || old.Round != int32(max(st.Round, 1)) ||
				old.Status != string(st.Status)
			if stepChanged {
				since = nil
				if rewardOpen(st) {
					since = &changedAt
				}
			}
			n, err := q.UpdateRewardState(ctx, db.UpdateRewardStateParams{
				NominationNo: no, Kind: string(st.Kind), AmountFen: st.AmountFen, Reason: st.Reason,
				Status: string(st.Status), Step: step, StepRole: st.StepRole, Awaiting: nonNil(st.Awaiting),
				Excluded: nonNil(st.Excluded), DueAt: st.DueAt, StepSince: since, Round: int32(max(st.Round, 1)),
				NeedsCommittee: st.NeedsCommittee, Approvals: approvalsJSON, LastSeq: int32(lastSeq),
			})
			if err != nil {
				return fmt.Errorf("update reward %s: %w", no, err)
			}
			if n == 1 {
				fresh.nominated = fresh.nominated || !old.LastSeq.Valid
				fresh.entered = old.Status != string(st.Status) || (!old.LastSeq.Valid && st.Status != workflows.RewardPending)
				if stepChanged && old.Step != nil && old.StepSince != nil && old.LastSeq.Valid {
					fresh.stepEnded, fresh.stepTook = workflows.Step(*old.Step), changedAt.Sub(*old.StepSince)
				}
			}
		}
		if len(events.Seqs) > 0 {
			if _, err := q.InsertRewardEvents(ctx, events); err != nil {
				return fmt.Errorf("insert reward events: %w", err)
			}
		}
		if p := rec.Payout; p != nil {
			// R5.3: recorded exactly once, whatever the retries.
			at := p.At
			if at.IsZero() {
				at = changedAt
			}
			nominee, kind := p.NomineeID, p.Kind
			if nominee == "" {
				nominee = st.NomineeID
			}
			if kind == "" {
				kind = st.Kind
			}
			n, err := q.InsertPayout(ctx, db.InsertPayoutParams{
				NominationNo: no, NomineeID: nominee, Kind: string(kind), AmountFen: p.AmountFen,
				Reference: p.Reference, RecordedBy: p.RecordedBy, At: at,
			})
			if err != nil {
				return fmt.Errorf("insert payout of %s: %w", no, err)
			}
			if n == 1 {
				fresh.paidFen = p.AmountFen
				fresh.paid = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.Metrics.observeReward(st, fresh) // after commit: only what this record added
	return nil
}

// rewardOpen reports whether the reward has a current step someone acts on.
func rewardOpen(st workflows.RewardState) bool {
	return st.Step != nil && (st.Status == workflows.RewardPending || st.Status == workflows.RewardApproved)
}

// validateReward refuses a record that cannot be written: retrying would
// not help.
func validateReward(rec workflows.RewardRecord) error {
	st := rec.State
	switch {
	case st.NominationNo == "" || st.NomineeID == "" || st.NominatorID == "":
		return errors.New("reward record without nomination_no, nominee_id or nominator_id")
	case !slices.Contains(rewardStatuses, st.Status):
		return fmt.Errorf("reward status %q", st.Status)
	case !slices.Contains(rewardKinds, st.Kind):
		return fmt.Errorf("reward kind %q", st.Kind)
	case st.Step != nil && !slices.Contains(rewardSteps, *st.Step):
		return fmt.Errorf("reward step %q", *st.Step)
	case st.Kind == workflows.KindCash && st.AmountFen <= 0,
		st.Kind != workflows.KindCash && st.AmountFen != 0:
		return fmt.Errorf("R5.1: a %s reward with amount_fen %d (only cash has an amount, above 0)", st.Kind, st.AmountFen)
	}
	for _, e := range st.Events {
		if e.Seq < 1 {
			return fmt.Errorf("reward event seq %d", e.Seq)
		}
	}
	if p := rec.Payout; p != nil {
		switch {
		case p.NominationNo != "" && p.NominationNo != st.NominationNo:
			return fmt.Errorf("payout of %s in the record of %s", p.NominationNo, st.NominationNo)
		case p.Reference == "" || p.RecordedBy == "":
			return errors.New("payout without reference or recorded_by")
		case p.Kind != "" && !slices.Contains(rewardKinds, p.Kind):
			return fmt.Errorf("payout kind %q", p.Kind)
		}
		kind := p.Kind
		if kind == "" {
			kind = st.Kind
		}
		if (kind == workflows.KindCash) != (p.AmountFen > 0) || p.AmountFen < 0 {
			return fmt.Errorf("R5.1: a %s payout with amount_fen %d (only cash has an amount, above 0)", kind, p.AmountFen)
		}
	}
	return nil
}

// rewardChange is what a RecordReward wrote that was new.
type rewardChange struct {
	nominated bool // the reward's first record
	entered   bool // the status changed (to the state's)
	stepEnded workflows.Step
	stepTook  time.Duration
	paid      bool // the payout row is new
	paidFen   int64
}

// NotifyReward delivers a reward's reminder, escalation, outcome or payment
// notice (R5.3) like Notify: a log line without a webhook, else a POST with
// Idempotency-Key: n.Key. It carries ids and times only (R7).
func (a *Activities) NotifyReward(ctx context.Context, n workflows.RewardNotice) error {
	if n.Key == "" || n.NominationNo == "" {
		return invalid("InvalidNotification", "reward notice without key or nomination_no")
	}
	return a.deliver(ctx, "reward", n.Key, n, "reward notification",
		"kind", n.Kind, "nomination_no", n.NominationNo, "step", string(n.Step), "recipients", n.Recipients,
		"due_at", n.DueAt, "key", n.Key)
}
