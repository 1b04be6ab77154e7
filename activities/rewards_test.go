package activities

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/temporal"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// rewardIntake inserts the row POST /rewards writes before starting the
// workflow: manager1 nominates agent1 for a cash bonus of 1,000 CNY.
func rewardIntake(t *testing.T, a *Activities, no string) {
	t.Helper()
	h := sha256.Sum256([]byte(no))
	_, err := a.Q.InsertRewardIntake(context.Background(), db.InsertRewardIntakeParams{
		NominationNo: no, RequestHash: h[:], NomineeID: "agent1", NominatorID: "manager1",
		Kind: string(workflows.KindCash), AmountFen: 100000, Reason: "fixed 40 washers in a week", CreatedAt: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rewardAt is the state of reward no after the events up to seq: 1
// nominated (manager step, the department head), 2 approved by head1 (HR
// step), 3 approved by hr1 (approved, payout step), 4 paid.
func rewardAt(no string, seq int) workflows.RewardState {
	step := func(s workflows.Step) *workflows.Step { return &s }
	due := func(days int) *time.Time { d := t0.Add(time.Duration(days) * 24 * time.Hour); return &d }
	all := []workflows.Event{
		{Seq: 1, Type: "nominated", ActorID: "manager1", At: t0, Reason: "fixed 40 washers in a week"},
		{Seq: 2, Type: "approved", ActorID: "head1", At: t0.Add(2 * time.Hour), Data: map[string]any{"step": "manager"}},
		{Seq: 3, Type: "approved", ActorID: "hr1", At: t0.Add(26 * time.Hour), Data: map[string]any{"step": "hr"}},
		{Seq: 4, Type: "paid", ActorID: "hr1", At: t0.Add(30 * time.Hour), Data: map[string]any{"payment_ref": "PAY-1"}},
	}
	st := workflows.RewardState{
		NominationNo: no, NomineeID: "agent1", NominatorID: "manager1", Kind: workflows.KindCash, AmountFen: 100000,
		Reason: "fixed 40 washers in a week", Status: workflows.RewardPending, Round: 1,
		Excluded: []string{"agent1", "manager1"}, Events: all[:seq],
	}
	switch seq {
	case 1:
		st.Step, st.Awaiting, st.DueAt = step(workflows.StepManager), []string{"head1"}, due(3)
	case 2:
		st.Step, st.StepRole, st.DueAt = step(workflows.StepHR), "hr", due(4)
		st.Excluded = append(st.Excluded, "head1")
		st.Approvals = []workflows.Approval{{Step: workflows.StepManager, By: "head1", At: all[1].At, Round: 1}}
	case 3:
		st.Status, st.Step, st.StepRole, st.DueAt = workflows.RewardApproved, step(workflows.StepPayout), "hr", due(5)
		st.Excluded = append(st.Excluded, "head1", "hr1")
		st.Approvals = []workflows.Approval{{Step: workflows.StepManager, By: "head1", At: all[1].At, Round: 1},
			{Step: workflows.StepHR, By: "hr1", At: all[2].At, Round: 1}}
	default:
		st.Status, st.PaymentRef = workflows.RewardPaid, "PAY-1"
		st.Excluded = []string{}
		st.Approvals = []workflows.Approval{{Step: workflows.StepManager, By: "head1", At: all[1].At, Round: 1},
			{Step: workflows.StepHR, By: "hr1", At: all[2].At, Round: 1}}
	}
	return st
}

func payoutOf(no, ref string) *workflows.PayoutRecord {
	return &workflows.PayoutRecord{NominationNo: no, NomineeID: "agent1", Kind: workflows.KindCash, AmountFen: 100000,
		Reference: ref, RecordedBy: "hr1", At: t0.Add(30 * time.Hour)}
}

func countRows(t *testing.T, a *Activities, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := a.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// R5, R7: the same record twice (a retry) leaves one reward row, one row
// per event, and counts its metrics once.
func TestR5_RecordRewardTwiceGivesOneOfEachRow(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	rewardIntake(t, a, "R-1")
	for _, seq := range []int{1, 1, 2, 2} {
		if err := a.RecordReward(ctx, workflows.RewardRecord{State: rewardAt("R-1", seq)}); err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
	}
	if n := countRows(t, a, `SELECT count(*) FROM rewards WHERE nomination_no = 'R-1'`); n != 1 {
		t.Errorf("%d reward rows", n)
	}
	if n := countRows(t, a, `SELECT count(*) FROM reward_events WHERE nomination_no = 'R-1'`); n != 2 {
		t.Errorf("%d event rows, want 2", n)
	}
	r, err := a.Q.GetReward(ctx, "R-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "pending" || r.Step == nil || *r.Step != "hr" || r.StepRole != "hr" || r.LastSeq.Int32 != 2 ||
		!slices.Equal(r.Excluded, []string{"agent1", "manager1", "head1"}) || len(r.Awaiting) != 0 ||
		r.DueAt == nil || !r.DueAt.Equal(t0.Add(4*24*time.Hour)) {
		t.Errorf("read model %+v", r)
	}
	if r.StepSince == nil || !r.StepSince.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("step_since = %v, want the manager's approval", r.StepSince)
	}
	var approvals []workflows.Approval
	if err := json.Unmarshal(r.Approvals, &approvals); err != nil || len(approvals) != 1 || approvals[0].By != "head1" {
		t.Errorf("approvals %s (%v)", r.Approvals, err)
	}
	if n := countRows(t, a, `SELECT count(*) FROM payouts`); n != 0 {
		t.Errorf("%d payouts before the payout", n)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rewards_total", []string{"cash", "nominated"}, 1},
		{"reward_step_duration_seconds", []string{"manager"}, 1}, // observations
		{"reward_step_duration_seconds", []string{"hr"}, 0},
	} {
		if got := sample(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// R5, R7: an older state arriving after a newer one (a retried record that
// lost the race) keeps the newer one, and adds no events twice.
func TestR5_RecordRewardOlderStateKeepsNewer(t *testing.T) {
	a, _ := setup(t)
	ctx := context.Background()
	rewardIntake(t, a, "R-2")
	for _, seq := range []int{2, 1} {
		if err := a.RecordReward(ctx, workflows.RewardRecord{State: rewardAt("R-2", seq)}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := a.Q.GetReward(ctx, "R-2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Step == nil || *r.Step != "hr" || r.LastSeq.Int32 != 2 || len(r.Awaiting) != 0 {
		t.Errorf("the older state overwrote the newer: step %v, last_seq %v, awaiting %v", deref(r.Step), r.LastSeq, r.Awaiting)
	}
	if n := countRows(t, a, `SELECT count(*) FROM reward_events WHERE nomination_no = 'R-2'`); n != 2 {
		t.Errorf("%d event rows, want 2", n)
	}
}

// R5.3: exactly one payout per reward, even when the payout is recorded
// twice (a retry) or a second time with another reference; the amount paid
// is counted once.
func TestR5_3_PayoutRecordedExactlyOnce(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	rewardIntake(t, a, "R-3")
	for _, seq := range []int{1, 2, 3} {
		if err := a.RecordReward(ctx, workflows.RewardRecord{State: rewardAt("R-3", seq)}); err != nil {
			t.Fatal(err)
		}
	}
	paid := workflows.RewardRecord{State: rewardAt("R-3", 4), Payout: payoutOf("R-3", "PAY-1")}
	for range 2 {
		if err := a.RecordReward(ctx, paid); err != nil {
			t.Fatal(err)
		}
	}
	again := workflows.RewardRecord{State: rewardAt("R-3", 4), Payout: payoutOf("R-3", "PAY-2")}
	if err := a.RecordReward(ctx, again); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, a, `SELECT count(*) FROM payouts WHERE nomination_no = 'R-3'`); n != 1 {
		t.Fatalf("%d payout rows, want exactly 1", n)
	}
	p, err := a.Q.GetPayout(ctx, "R-3")
	if err != nil {
		t.Fatal(err)
	}
	if p.Reference != "PAY-1" || p.AmountFen != 100000 || p.RecordedBy != "hr1" || p.NomineeID != "agent1" {
		t.Errorf("payout %+v", p)
	}
	r, err := a.Q.GetReward(ctx, "R-3")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "paid" || r.Step != nil || r.DueAt != nil || r.StepSince != nil {
		t.Errorf("paid reward %+v", r)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"reward_paid_amount_fen_total", nil, 100000},
		{"rewards_total", []string{"cash", "nominated"}, 1},
		{"rewards_total", []string{"cash", "approved"}, 1},
		{"rewards_total", []string{"cash", "paid"}, 1},
		{"reward_step_duration_seconds", []string{"payout"}, 1},
	} {
		if got := sample(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// R7: the payout and the trail are append-only.
	if _, err := pool.Exec(ctx, `UPDATE payouts SET reference = 'X' WHERE nomination_no = 'R-3'`); err == nil {
		t.Error("a payout was changed")
	}
	if _, err := pool.Exec(ctx, `DELETE FROM reward_events WHERE nomination_no = 'R-3'`); err == nil {
		t.Error("reward events were deleted")
	}
}

// R5.2: a nomination not made over HTTP (a CSI service star, nominated by
// "system") has no intake row: its first record creates it.
func TestR5_2_RecordRewardWithoutIntakeCreatesTheRow(t *testing.T) {
	a, pool := setup(t)
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	no := workflows.ServiceStarNominationNo("2026-08", "agent1")
	st := rewardAt(no, 1)
	st.NominatorID, st.Kind, st.AmountFen = workflows.SystemNominator, workflows.KindHonour, 0
	st.Events[0].ActorID = workflows.SystemNominator
	for range 2 {
		if err := a.RecordReward(ctx, workflows.RewardRecord{State: st}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := a.Q.GetReward(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestHash != nil || r.NominatorID != "system" || r.Kind != "honour" || !r.CreatedAt.Equal(t0) ||
		r.Step == nil || *r.Step != "manager" || r.LastSeq.Int32 != 1 {
		t.Errorf("row %+v", r)
	}
	if got := sample(t, reg, "rewards_total", "honour", "nominated"); got != 1 {
		t.Errorf("nominated %v times", got)
	}
}

// A record that cannot be written fails without retries.
func TestR5_RecordRewardRefusesABadRecord(t *testing.T) {
	a, _ := setup(t)
	ctx := context.Background()
	rewardIntake(t, a, "R-4")
	bad := rewardAt("R-4", 1)
	bad.Kind, bad.AmountFen = workflows.KindHonour, 5 // R5.1: only cash has an amount
	other := workflows.RewardRecord{State: rewardAt("R-4", 4), Payout: payoutOf("R-5", "PAY-1")}
	for _, rec := range []workflows.RewardRecord{{State: bad}, other, {State: workflows.RewardState{}}} {
		err := a.RecordReward(ctx, rec)
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || !ae.NonRetryable() || ae.Type() != errInvalidReward {
			t.Errorf("%+v: %v", rec.State.NominationNo, err)
		}
	}
}

// R5.3: an open step past its deadline shows in reward_steps_overdue.
func TestR5_3_OverdueStepsGauge(t *testing.T) {
	a, pool := setup(t)
	reg := prometheus.NewRegistry()
	a.Metrics = NewMetrics(reg, pool)
	rewardIntake(t, a, "R-6")
	if err := a.RecordReward(context.Background(), workflows.RewardRecord{State: rewardAt("R-6", 1)}); err != nil {
		t.Fatal(err)
	}
	// t0 is in September 2026; the test runs later or earlier than its due_at.
	want := 0.0
	if time.Now().After(t0.Add(3 * 24 * time.Hour)) {
		want = 1
	}
	if got := sample(t, reg, "reward_steps_overdue"); got != want {
		t.Errorf("reward_steps_overdue = %v, want %v", got, want)
	}
}

// NotifyReward posts the notice with its idempotency key.
func TestR5_NotifyRewardDeliversWithIdempotencyKey(t *testing.T) {
	var got []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n workflows.RewardNotice
		_ = json.NewDecoder(r.Body).Decode(&n)
		got = append(got, r.Header.Get("Idempotency-Key")+" "+n.NominationNo+" "+n.Kind)
	}))
	defer hs.Close()
	a := &Activities{WebhookURL: hs.URL}
	n := workflows.RewardNotice{Key: "R-7/manager/1/reminder", Kind: "reminder", NominationNo: "R-7",
		Step: workflows.StepManager, Recipients: []string{"head1"}, DueAt: t0, At: t0}
	if err := a.NotifyReward(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"R-7/manager/1/reminder R-7 reminder"}) {
		t.Errorf("delivered %q", got)
	}
	var ae *temporal.ApplicationError
	if err := a.NotifyReward(context.Background(), workflows.RewardNotice{Kind: "reminder"}); !errors.As(err, &ae) || !ae.NonRetryable() {
		t.Errorf("a notice without key: %v", err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
