package workflows

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/acme/aftersales/input"
)

// badValue is a value PostgreSQL cannot store, or that breaks a field's rule.
type badValue struct{ what, v string }

// badText is what every text field must refuse: a NUL byte, invalid UTF-8,
// a control character, and one character over its limit (counted in
// characters: 字 is three bytes). A single-line field also refuses a line end.
func badText(limit int, line bool) []badValue {
	out := []badValue{
		{"NUL", "a\x00b"},
		{"invalid UTF-8", "\xff"},
		{"control character", "a\x07b"},
		{"over-long", strings.Repeat("字", limit+1)},
	}
	if line {
		out = append(out, badValue{"line end", "a\nb"})
	}
	return out
}

// gobCommands carries the commands' inputs as gob, which keeps every byte
// of a string. The JSON converter turns invalid UTF-8 into U+FFFD before a
// validator sees it, so without this the UTF-8 check could not be exercised
// (it is defence in depth for clients that do not go through JSON).
type gobCommands struct{}

const gobEncoding = "binary/gob"

func (gobCommands) ToPayload(v any) (*commonpb.Payload, error) {
	switch v.(type) {
	case AcceptExplanationInput, EscalateAppealInput, DecideAppealInput, OpenAppealInput,
		RewardDecisionInput, ResubmitInput, WithdrawInput, PayoutInput:
	default:
		return nil, nil // not a command: the next converter
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, err
	}
	return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(gobEncoding)}, Data: b.Bytes()}, nil
}

func (gobCommands) FromPayload(p *commonpb.Payload, to any) error {
	return gob.NewDecoder(bytes.NewReader(p.Data)).Decode(to)
}

func (gobCommands) ToString(p *commonpb.Payload) string {
	return fmt.Sprintf("gob, %d bytes", len(p.Data))
}

func (gobCommands) Encoding() string { return gobEncoding }

func rawBytesConverter() converter.DataConverter {
	return converter.NewCompositeDataConverter(
		converter.NewNilPayloadConverter(), converter.NewByteSlicePayloadConverter(), gobCommands{},
		converter.NewProtoJSONPayloadConverter(), converter.NewProtoPayloadConverter(), converter.NewJSONPayloadConverter(),
	)
}

// hygiene sends updates to a workflow under test, one a minute, and checks
// that bad values are rejected as invalid input naming the field, with the
// workflow's state unchanged.
type hygiene struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	snapshot func() string // the queried state, as JSON
	at       time.Duration
	pending  int
}

func (h *hygiene) rejects(update, field string, values []badValue, arg func(string) any) {
	for _, bad := range values {
		h.at += time.Minute
		h.pending++
		var before string
		rejected := false
		h.env.RegisterDelayedCallback(func() {
			before = h.snapshot()
			h.env.UpdateWorkflow(update, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {},
				OnReject: func(err error) {
					rejected = true
					if !IsRejection(err, ErrInvalidInput) || !strings.HasPrefix(err.Error(), field+" ") {
						h.t.Errorf("%s %s %s: got %v, want invalid input about %s", update, field, bad.what, err, field)
					}
				},
				OnComplete: func(any, error) {},
			}, arg(bad.v))
		}, h.at)
		h.env.RegisterDelayedCallback(func() {
			h.pending--
			if !rejected {
				h.t.Errorf("%s %s %s: not rejected by the validator", update, field, bad.what)
			}
			if after := h.snapshot(); after != before {
				h.t.Errorf("%s %s %s: state changed:\n%s\n%s", update, field, bad.what, before, after)
			}
		}, h.at+time.Second)
	}
}

func (h *hygiene) accepts(update string, arg any) {
	h.at += time.Minute
	h.pending++
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(update, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { h.pending--; h.t.Errorf("%s rejected: %v", update, err) },
			OnComplete: func(_ any, err error) {
				h.pending--
				if err != nil {
					h.t.Errorf("%s: %v", update, err)
				}
			},
		}, arg)
	}, h.at)
}

func (h *hygiene) done() {
	h.t.Helper()
	if h.pending != 0 {
		h.t.Fatalf("%d update checks never ran", h.pending)
	}
}

func queried[T any](t *testing.T, env *testsuite.TestWorkflowEnvironment, query string, clean func(*T)) func() string {
	return func() string {
		v, err := env.QueryWorkflow(query)
		if err != nil {
			t.Errorf("query %s: %v", query, err)
			return ""
		}
		var st T
		if err := v.Get(&st); err != nil {
			t.Errorf("query %s: %v", query, err)
		}
		if clean != nil {
			clean(&st)
		}
		b, _ := json.Marshal(st)
		return string(b)
	}
}

// Every text field a client supplies to an appeal, a reward or a cycle's
// open-appeal is checked again by the validators (package input): nothing
// PostgreSQL cannot store enters a history, and a bad value is a 400 on
// that field, not a workflow stuck retrying its write (R7: every change is
// kept, so it must be storable). Limits count characters and match the
// HTTP layer's, so the longest value it accepts passes here too.
func TestValidatorsRejectWhatPostgresCannotStore(t *testing.T) {
	t.Run("appeal", func(t *testing.T) {
		env, _ := newEnv(t, tuesday)
		env.SetDataConverter(rawBytesConverter())
		h := &hygiene{t: t, env: env, snapshot: queried(t, env, QueryAppeal, func(s *AppealState) { s.RemainingSeconds = 0 })}
		h.rejects(UpdateAcceptExplanation, "note", badText(input.Note, false), func(v string) any {
			return AcceptExplanationInput{Actor: "agent1", Note: v}
		})
		h.rejects(UpdateEscalateAppeal, "reason", badText(input.Note, false), func(v string) any {
			return EscalateAppealInput{Actor: "manager1", Reason: v}
		})
		h.accepts(UpdateEscalateAppeal, EscalateAppealInput{Actor: "manager1", Reason: "no agreement:\n" + strings.Repeat("字", input.Note-14)})
		h.rejects(UpdateDecideAppeal, "reason", badText(input.Long, false), func(v string) any {
			return DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: v}
		})
		h.accepts(UpdateDecideAppeal, DecideAppealInput{Actor: "hr1", Outcome: AppealRejected, Reason: "line one\r\n\tline two " + strings.Repeat("字", input.Long-20)})
		env.ExecuteWorkflow(AppealWorkflowType, appealInput(tuesday))
		if st := appealResult(t, env); st.Status != AppealRejected {
			t.Errorf("result %+v", st)
		}
		h.done()
	})

	t.Run("reward cash", func(t *testing.T) {
		rh := newRewardHarness(t, KindCash, 100000)
		rh.env.SetDataConverter(rawBytesConverter())
		h := &hygiene{t: t, env: rh.env, snapshot: queried[RewardState](t, rh.env, QueryReward, nil)}
		decision := func(v string) any { return RewardDecisionInput{Actor: "head1", Comment: v} }
		h.rejects(UpdateApprove, "comment", badText(input.Long, false), decision)
		h.rejects(UpdateReject, "comment", badText(input.Long, false), decision)
		h.rejects(UpdateReturn, "comment", badText(input.Long, false), decision)
		h.rejects(UpdateWithdraw, "reason", badText(input.Note, false), func(v string) any {
			return WithdrawInput{Actor: "manager1", Reason: v}
		})
		h.accepts(UpdateReturn, RewardDecisionInput{Actor: "head1", Comment: "say what was saved"})
		h.rejects(UpdateResubmit, "reason", badText(input.Long, false), func(v string) any {
			return ResubmitInput{Actor: "manager1", Reason: &v}
		})
		h.rejects(UpdateResubmit, "comment", badText(input.Long, false), func(v string) any {
			return ResubmitInput{Actor: "manager1", Comment: v}
		})
		long := strings.Repeat("字", input.Long)
		h.accepts(UpdateResubmit, ResubmitInput{Actor: "manager1", Reason: &long, Comment: long})
		h.accepts(UpdateApprove, RewardDecisionInput{Actor: "head1", Comment: long})
		h.accepts(UpdateApprove, approve("hr1", "hr"))
		h.rejects(UpdatePayout, "payment_ref", badText(input.Name, true), func(v string) any {
			return PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, PaymentRef: v}
		})
		h.accepts(UpdatePayout, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, PaymentRef: strings.Repeat("字", input.Name)})
		if st := rh.run(); st.Status != RewardPaid || rh.f.payouts() != 1 {
			t.Errorf("status %s, %d payouts", st.Status, rh.f.payouts())
		}
		h.done()
	})

	t.Run("reward honour", func(t *testing.T) {
		rh := newRewardHarness(t, KindHonour, 0)
		rh.env.SetDataConverter(rawBytesConverter())
		h := &hygiene{t: t, env: rh.env, snapshot: queried[RewardState](t, rh.env, QueryReward, nil)}
		h.accepts(UpdateApprove, approve("head1"))
		h.accepts(UpdateApprove, approve("hr1", "hr"))
		h.rejects(UpdatePayout, "issued_ref", badText(input.Name, true), func(v string) any {
			return PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, IssuedRef: v}
		})
		h.accepts(UpdatePayout, PayoutInput{Actor: "hr2", ActorRoles: []string{"hr"}, IssuedRef: "CERT-2026-001"})
		if st := rh.run(); st.Status != RewardPaid || st.IssuedRef != "CERT-2026-001" {
			t.Errorf("result %+v", st)
		}
		h.done()
	})

	t.Run("open appeal", func(t *testing.T) {
		env, f := newEnv(t, tuesday)
		f.results = []ResultRef{{AssessmentID: "2026-02_agent1", EmployeeID: "agent1", TeamID: "team-a", ManagerID: "manager1", HeadID: "head1", Score: 715}}
		env.SetDataConverter(rawBytesConverter())
		h := &hygiene{t: t, env: env, snapshot: queried[CycleState](t, env, QueryCycle, nil)}
		h.rejects(UpdateOpenAppeal, "reason", badText(input.Long, false), func(v string) any {
			return OpenAppealInput{AssessmentID: "2026-02_agent1", AppellantID: "agent1", Reason: v}
		})
		badIDs := []badValue{{"NUL", "2026-02_agent1\x00"}, {"invalid UTF-8", "2026-02_\xff"}, {"control character", "2026-02_\x07"}, {"space", "2026-02 agent1"}, {"over-long", strings.Repeat("a", input.IDMax+1)}}
		h.rejects(UpdateOpenAppeal, "assessment_id", badIDs, func(v string) any {
			return OpenAppealInput{AssessmentID: v, AppellantID: "agent1", Reason: "wrong surveys"}
		})
		env.ExecuteWorkflow(AssessmentCycleWorkflowType, CycleInput{Month: "2026-02", StartedBy: "hr1", Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai"})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		h.done()
	})
}

// R4.5: a cycle refuses, at its start, a month the HTTP layer would refuse
// (package input): not YYYY-MM, before the horizon, or over a year ahead.
func TestR4_CycleRefusesAMonthOutsideTheHorizon(t *testing.T) {
	for _, month := range []string{"2026-2", "1999-12", "2027-04", "2026-02\x00"} {
		env, f := newEnv(t, tuesday)
		env.ExecuteWorkflow(AssessmentCycleWorkflowType, CycleInput{Month: month, Policy: DefaultAssessmentPolicy(), Location: "Asia/Shanghai"})
		if err := env.GetWorkflowError(); !IsRejection(err, ErrInvalidInput) || !strings.Contains(err.Error(), "month ") {
			t.Errorf("month %q: %v", month, err)
		}
		if f.computed != 0 {
			t.Errorf("month %q: computed", month)
		}
	}
}
