package policies_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/internal/pgtest"
	"github.com/acme/aftersales/policies"
	"github.com/acme/aftersales/workflows"
)

// Issue 12: version 1 of each stored policy is the rule book's, the one
// the workflows' Default*Policy spell out (R3, R5.3, R4.5, R4.6, R6).
func TestVersionOneIsTheRuleBook(t *testing.T) {
	q := db.New(pgtest.New(t))
	ctx := context.Background()
	sla, err := policies.Version[workflows.SLAPolicy](ctx, policies.NewStore(q), workflows.PolicyComplaint, 1)
	check(t, sla, workflows.DefaultSLAPolicy(), err)
	reward, err := policies.Version[workflows.RewardPolicy](ctx, policies.NewStore(q), workflows.PolicyReward, 1)
	check(t, reward, workflows.DefaultRewardPolicy(), err)
	assess, err := policies.InForce[workflows.AssessmentPolicy](ctx, q, workflows.PolicyAssessment, time.Now())
	check(t, assess, workflows.DefaultAssessmentPolicy(), err)
	if _, err := policies.Version[workflows.SLAPolicy](ctx, policies.NewStore(q), workflows.PolicyComplaint, 2); err == nil {
		t.Error("version 2 found before it was made")
	}
}

func check[P any](t *testing.T, got, want P, err error) {
	t.Helper()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("stored %+v (%v), want %+v", got, err, want)
	}
}

// R2, R7: the version in force at an instant is the latest effective at
// or before it; the table is append-only and its body carries its version.
func TestInForceAndAppendOnly(t *testing.T) {
	pool := pgtest.New(t)
	q := db.New(pool)
	ctx := context.Background()
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	five := workflows.DefaultSLAPolicy()
	five.Version, five.ResolutionWorkingDays = 2, 5
	if err := q.InsertPolicy(ctx, db.InsertPolicyParams{Kind: "complaint", Version: 2, EffectiveFrom: from,
		Body: mustJSON(t, five), Reason: "shorter", CreatedBy: "admin1"}); err != nil {
		t.Fatal(err)
	}
	for at, want := range map[time.Time]int{from.Add(-time.Second): 1, from: 2, from.Add(time.Hour): 2} {
		p, err := policies.InForce[workflows.SLAPolicy](ctx, q, workflows.PolicyComplaint, at)
		if err != nil || p.Version != want || (want == 2 && p.ResolutionWorkingDays != 5) {
			t.Errorf("at %s: %+v %v, want version %d", at, p, err, want)
		}
	}
	for _, stmt := range []string{
		`UPDATE policies SET reason = 'x' WHERE kind = 'complaint' AND version = 2`,
		`DELETE FROM policies WHERE kind = 'complaint' AND version = 2`,
		`INSERT INTO policies (kind, version, effective_from, body, reason, created_by)
		 VALUES ('reward', 2, now(), '{"version": 3}', 'mismatch', 'admin1')`,
	} {
		if _, err := pool.Exec(ctx, stmt); err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
