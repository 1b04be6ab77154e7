package workflows

import (
	"fmt"
	"time"

	"github.com/acme/aftersales/calendar"
)

// The contract of the reward approval (R5).

const RewardWorkflowType = "RewardApproval"

// RewardWorkflowID derives the workflow's ID from the nomination number.
func RewardWorkflowID(nominationNo string) string { return "reward:" + nominationNo }

// ServiceStarNominationNo is the nomination number the assessment gives a
// month's CSI service star (R5.2), so a rerun never nominates twice.
func ServiceStarNominationNo(month, employeeID string) string {
	return ServiceStarPrefix + month + "-" + employeeID
}

// ServiceStarPrefix starts the assessment's own nomination numbers; the
// HTTP API refuses it, so nobody can take a star's number first.
const ServiceStarPrefix = "csi-star-"

// SystemNominator nominates the CSI service stars (R5.2).
const SystemNominator = "system"

// Updates and query of a reward.
const (
	UpdateApprove  = "approve"
	UpdateReject   = "reject"
	UpdateReturn   = "return"
	UpdateResubmit = "resubmit"
	UpdateWithdraw = "withdraw"
	UpdatePayout   = "payout"
	QueryReward    = "reward"
)

// Activities of a reward.
const (
	ActivityRecordReward = "RecordReward" // with RewardRecord.Payout set it also writes the one payout row
	ActivityNotifyReward = "NotifyReward"
)

// RewardKind is a kind of R5.1.
type RewardKind string

const (
	KindCash      RewardKind = "cash"
	KindHonour    RewardKind = "honour"
	KindTraining  RewardKind = "training"
	KindPromotion RewardKind = "promotion"
)

// RewardStatus is the reward's status of api.md.
type RewardStatus string

const (
	RewardPending   RewardStatus = "pending"
	RewardReturned  RewardStatus = "returned"
	RewardRejected  RewardStatus = "rejected"
	RewardWithdrawn RewardStatus = "withdrawn"
	RewardApproved  RewardStatus = "approved" // every approval given; waiting for the payout step
	RewardPaid      RewardStatus = "paid"
)

// Step is a step of the approval chain (R5.3).
type Step string

const (
	StepManager   Step = "manager"   // the nominee's department head (or the committee, R5.3)
	StepHR        Step = "hr"        // HR approval
	StepCommittee Step = "committee" // only for big cash rewards and promotions
	StepPayout    Step = "payout"    // HR records the payment or issue
)

// RewardPolicy is carried in the input, so a reward keeps its rules.
type RewardPolicy struct {
	// Version is the policy record's (policy.go); 0 before versioning.
	Version             int   `json:"version,omitempty"`
	CommitteeAboveFen   int64 `json:"committee_above_fen"`   // R5.3: cash above 5,000 CNY = 500000 fen
	StepWorkingDays     int   `json:"step_working_days"`     // R5.3: 3 working days per step
	ReminderWorkingDays int   `json:"reminder_working_days"` // the reminder, after 2 working days
}

// DefaultRewardPolicy is R5.3's.
func DefaultRewardPolicy() RewardPolicy {
	return RewardPolicy{Version: 1, CommitteeAboveFen: 500000, StepWorkingDays: 3, ReminderWorkingDays: 2}
}

// Validate reports a policy that cannot work.
func (p RewardPolicy) Validate() error {
	switch {
	case p.CommitteeAboveFen < 0 || p.CommitteeAboveFen > maxAmountFen:
		return fmt.Errorf("committee_above_fen must be 0..%d", maxAmountFen)
	case p.StepWorkingDays < 1 || p.ReminderWorkingDays < 1 || p.StepWorkingDays > maxWorkingDays:
		return fmt.Errorf("working-day counts must be 1..%d", maxWorkingDays)
	case p.ReminderWorkingDays >= p.StepWorkingDays:
		return fmt.Errorf("a step's reminder must come before its deadline")
	}
	return nil
}

// RewardInput nominates a reward (R5.2).
type RewardInput struct {
	NominationNo string     `json:"nomination_no"`
	NomineeID    string     `json:"nominee_id"`
	NominatorID  string     `json:"nominator_id"`
	Kind         RewardKind `json:"kind"`
	AmountFen    int64      `json:"amount_fen"`
	Reason       string     `json:"reason"`
	AssessmentID string     `json:"assessment_id,omitempty"`
	// HeadID is the nominee's department head, who reviews step 1 (R5.3);
	// empty (no department) sends step 1 to the committee.
	HeadID      string              `json:"head_id"`
	NominatedAt time.Time           `json:"nominated_at"`
	Policy      RewardPolicy        `json:"policy"`
	Calendar    []calendar.Override `json:"calendar"`
	Location    string              `json:"location"`
	// HistoryBudget is how many history events a run may reach before it
	// continues as new (issue 13 item 2); 0 is the default (1,000).
	HistoryBudget int `json:"history_budget,omitempty"`
	// Carried is the state a run continued as new hands to the next one
	// (reward_carry.go); nil in the first run. Workflow-internal.
	Carried *rewardCarry `json:"carried,omitempty"`
}

// Approval is one step approved, by whom, when (R5.3 four eyes, R7).
type Approval struct {
	Step  Step      `json:"step"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
	Round int       `json:"round"`
}

// RewardState is the reward of api.md (GET /rewards/{no}) and every
// command's answer. Awaiting is who may act now: the workflow names the
// step's one person where it has one (the department head), the server
// fills in the role holders otherwise, minus Excluded (four eyes).
type RewardState struct {
	NominationNo string `json:"nomination_no"`
	// PolicyVersion is the reward policy the nomination runs by (in force
	// at its instant, kept).
	PolicyVersion int          `json:"policy_version"`
	NomineeID     string       `json:"nominee_id"`
	NominatorID   string       `json:"nominator_id"`
	Kind          RewardKind   `json:"kind"`
	AmountFen     int64        `json:"amount_fen"`
	Reason        string       `json:"reason"`
	AssessmentID  string       `json:"assessment_id,omitempty"`
	Status        RewardStatus `json:"status"`
	Step          *Step        `json:"step"`
	// StepRole is the role that acts on the current step ("" = a named person, see Awaiting).
	StepRole string   `json:"step_role,omitempty"`
	Awaiting []string `json:"awaiting"`
	// Excluded may not act now: the nominee, the nominator and the
	// approvers of other steps; at the payout step only the nominee.
	Excluded       []string   `json:"excluded"`
	DueAt          *time.Time `json:"due_at"`
	Round          int        `json:"round"` // 1, then +1 per resubmission
	Approvals      []Approval `json:"approvals"`
	NeedsCommittee bool       `json:"needs_committee"`
	PaymentRef     string     `json:"payment_ref,omitempty"`
	IssuedRef      string     `json:"issued_ref,omitempty"`
	Events         []Event    `json:"events"`
}

// Reward command inputs. Actor and ActorRoles are the authenticated caller,
// filled in by the server.
type (
	RewardDecisionInput struct {
		Actor      string   `json:"actor"`
		ActorRoles []string `json:"actor_roles"`
		Comment    string   `json:"comment"`
	}
	ResubmitInput struct {
		Actor     string      `json:"actor"`
		Kind      *RewardKind `json:"kind,omitempty"`
		AmountFen *int64      `json:"amount_fen,omitempty"`
		Reason    *string     `json:"reason,omitempty"`
		Comment   string      `json:"comment"`
	}
	WithdrawInput struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	PayoutInput struct {
		Actor      string   `json:"actor"`
		ActorRoles []string `json:"actor_roles"`
		PaymentRef string   `json:"payment_ref,omitempty"` // cash
		IssuedRef  string   `json:"issued_ref,omitempty"`  // honour, training, promotion
	}
)

// RewardRecord is a reward's state written to the read model (the inbox);
// with Payout set it is the one payout row (a unique constraint backs it).
type RewardRecord struct {
	State  RewardState   `json:"state"`
	Payout *PayoutRecord `json:"payout,omitempty"`
}

// PayoutRecord is the payment or issue of a reward (R5.3 step 4): exactly one.
type PayoutRecord struct {
	NominationNo string     `json:"nomination_no"`
	NomineeID    string     `json:"nominee_id"`
	Kind         RewardKind `json:"kind"`
	AmountFen    int64      `json:"amount_fen"`
	Reference    string     `json:"reference"`
	RecordedBy   string     `json:"recorded_by"`
	At           time.Time  `json:"at"`
}

// RewardNotice is a reminder, an escalation or news for the nominee.
type RewardNotice struct {
	Key          string    `json:"key"`
	Kind         string    `json:"kind"` // reminder, escalation, outcome, paid
	NominationNo string    `json:"nomination_no"`
	Step         Step      `json:"step,omitempty"`
	Recipients   []string  `json:"recipients"`
	DueAt        time.Time `json:"due_at"`
	At           time.Time `json:"at"`
}

// StaticSummary is the one line the Temporal Web UI shows for a reward's
// workflow, set where it is started (issue 13 item 5): who is nominated
// for what, by whom, when. The free-text reason stays out.
func (in RewardInput) StaticSummary() string {
	what := string(in.Kind)
	if in.Kind == KindCash {
		what = fmt.Sprintf("cash %d.%02d CNY", in.AmountFen/100, in.AmountFen%100)
	}
	return fmt.Sprintf("Reward %s: %s for %s, nominated by %s %s",
		in.NominationNo, what, in.NomineeID, in.NominatorID, shownAt(in.NominatedAt, locationOf(in.Location)))
}

// StaticDetails is the approval chain the reward runs by (R5.3).
func (in RewardInput) StaticDetails() string {
	p := in.Policy
	if p.StepWorkingDays < 1 {
		p = DefaultRewardPolicy()
	}
	first := "the department head " + in.HeadID
	if in.HeadID == "" || in.HeadID == in.NominatorID || in.HeadID == in.NomineeID {
		first = "the committee"
	}
	return fmt.Sprintf("Reward policy v%d (R5.3): step 1 by %s, then HR, the committee for cash above %d.%02d CNY "+
		"or a promotion, then HR's payout; %d working days a step, a reminder after %d.",
		shownVersion(p.Version), first, p.CommitteeAboveFen/100, p.CommitteeAboveFen%100, p.StepWorkingDays, p.ReminderWorkingDays)
}
