package workflows

import (
	"fmt"
	"time"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/scoring"
)

// The contract of the monthly assessment (R4.5) and of appeals (R6).

const (
	AssessmentCycleWorkflowType = "AssessmentCycle"
	AppealWorkflowType          = "Appeal"
	// MonthlyCycleStarterWorkflowType is what the Temporal Schedule runs on
	// the 1st at 02:00: it works out the previous month and starts (or finds)
	// that month's AssessmentCycle, so a scheduled start and HR's early
	// start share one workflow ID.
	MonthlyCycleStarterWorkflowType = "MonthlyCycleStarter"
	// AssessmentScheduleID is the Temporal Schedule of the monthly cycle.
	AssessmentScheduleID = "assessment-cycle-monthly"
)

// AssessmentCycleWorkflowID derives the cycle's ID from its month (YYYY-MM).
func AssessmentCycleWorkflowID(month string) string { return "assessment-cycle:" + month }

// AssessmentID is the id of one employee's monthly result.
func AssessmentID(month, employeeID string) string { return month + "_" + employeeID }

// AppealID is the id of the appeal on an assessment result: one per result (R6).
func AppealID(assessmentID string) string { return "appeal_" + assessmentID }

// AppealWorkflowID derives the appeal workflow's ID from the assessment result.
func AppealWorkflowID(assessmentID string) string { return "appeal:" + assessmentID }

// Update, signal and query names.
const (
	UpdateOpenAppeal        = "open-appeal"
	UpdateAcceptExplanation = "accept-explanation"
	UpdateEscalateAppeal    = "escalate"
	UpdateDecideAppeal      = "decision"
	QueryCycle              = "cycle"
	// SignalRecompute told a published cycle that entries for its month
	// arrived late (R4.0). Servers now send UpdateLateEntry instead; cycles
	// keep the signal's handler for senders of the release before.
	SignalRecompute = "recompute"
	// UpdateLateEntry is the gate of late entries (R4.0, issue 13): an entry
	// dated in the cycle's month (a survey, a work order, a deduction
	// decision) asks the cycle whether it may still count. The validator
	// refuses once the publication window has ended (closing or final:
	// results may no longer change unappealed, R4.5); an accepted entry's
	// handler recomputes the month before it answers, and the cycle does
	// not finalize while one is in flight.
	UpdateLateEntry = "late-entry"
	// SignalAppealEnded is an appeal telling its month's cycle that it has
	// ended (appeals opened with AppealInput.NotifyCycle): the cycle's
	// current run learns it even after it continued as new, when the
	// appeal is no longer its child.
	SignalAppealEnded = "appeal-ended"
	QueryAppeal       = "appeal"
)

// Activity names of the assessment.
const (
	ActivityComputeResults    = "ComputeResults"
	ActivityFinalizeCycle     = "FinalizeCycle"
	ActivityRecordCycle       = "RecordCycle"
	ActivityRecordAppeal      = "RecordAppeal"
	ActivityCalendarOverrides = "CalendarOverrides"
	ActivityNotifyAppeal      = "NotifyAppeal"
	// ActivityAssessmentPolicy reads the assessment policy in force at an
	// instant, for a cycle the schedule starts.
	ActivityAssessmentPolicy = "AssessmentPolicyInForce"
)

// CycleStatus is the cycle's status.
type CycleStatus string

const (
	CycleComputing CycleStatus = "computing"
	CyclePublished CycleStatus = "published" // open to appeal during the publication window
	CycleClosing   CycleStatus = "closing"   // window over, waiting for the month's appeals
	CycleFinal     CycleStatus = "final"
)

// AssessmentPolicy is carried in the cycle's input (R4.5).
type AssessmentPolicy struct {
	// Version is the policy record's (policy.go); 0 before versioning.
	Version                int `json:"version,omitempty"`
	PublicationWorkingDays int `json:"publication_working_days"` // R4.5: 3
	// PublicationWindow, when set, replaces the working-day window with a
	// plain duration: a demo and test setting (ASSESSMENT_PUBLICATION_WINDOW),
	// so a whole month can be walked through in minutes. Production leaves it 0.
	PublicationWindow Duration `json:"publication_window,omitempty"`
	// R6: stage 1 with the manager, stage 2 with HR, reminder in stage 2.
	Stage1WorkingDays   int `json:"stage1_working_days"`   // 2
	Stage2WorkingDays   int `json:"stage2_working_days"`   // 5
	ReminderWorkingDays int `json:"reminder_working_days"` // 3
	// R5.2: a month's CSI service star has the team's top score, at least this.
	StarMinScore scoring.Tenths `json:"star_min_score"` // 90.0
	// R4.6: the annual grades' percentages. The cycle does not use them;
	// the annual report takes the version in force at the year's end.
	Annual scoring.Policy `json:"annual"`
}

// DefaultAssessmentPolicy is the policy of R4.5 and R6.
func DefaultAssessmentPolicy() AssessmentPolicy {
	return AssessmentPolicy{Version: 1, PublicationWorkingDays: 3, Stage1WorkingDays: 2, Stage2WorkingDays: 5, ReminderWorkingDays: 3,
		StarMinScore: 900, Annual: scoring.DefaultPolicy()}
}

// Validate reports a policy that cannot work.
func (p AssessmentPolicy) Validate() error {
	switch {
	case p.PublicationWorkingDays < 1 || p.Stage1WorkingDays < 1 || p.Stage2WorkingDays < 1 || p.ReminderWorkingDays < 1,
		max(p.PublicationWorkingDays, p.Stage1WorkingDays, p.Stage2WorkingDays) > maxWorkingDays:
		return fmt.Errorf("working-day counts must be 1..%d", maxWorkingDays)
	case p.ReminderWorkingDays >= p.Stage2WorkingDays:
		return fmt.Errorf("the stage-2 reminder must come before its deadline")
	case p.PublicationWindow < 0 || p.PublicationWindow > maxPolicyHours:
		return fmt.Errorf("publication window must be 0..%s", maxPolicyHours)
	case p.StarMinScore < 0 || p.StarMinScore > 1000:
		return fmt.Errorf("star_min_score must be 0..100")
	}
	return p.Annual.Validate()
}

// CycleInput starts a month's AssessmentCycle.
type CycleInput struct {
	Month     string           `json:"month"` // YYYY-MM
	StartedBy string           `json:"started_by"`
	Policy    AssessmentPolicy `json:"policy"`
	Location  string           `json:"location"`
	// Budget bounds one run's history (issue 13); zero fields take
	// DefaultCycleBudget's. Tests set it small.
	Budget CycleBudget `json:"budget,omitzero"`
	// Carried is what a run hands to the next when it continues as new;
	// nil for the first run.
	Carried *CycleCarried `json:"carried,omitempty"`
}

// CycleBudget bounds one run of a cycle: past either figure (or when the
// server suggests it) the run continues as new at its next safe point.
type CycleBudget struct {
	// Events is the history length of one run.
	Events int `json:"events,omitempty"`
	// Updates counts the updates one run accepted (appeals opened, late
	// entries): the server caps them per run too.
	Updates int `json:"updates,omitempty"`
}

// DefaultCycleBudget is the budget of a cycle that names none: well below
// Temporal's limits (51,200 events, 2,000 updates a run), which the
// server's own suggestion (GetContinueAsNewSuggested) usually reaches first.
var DefaultCycleBudget = CycleBudget{Events: 10_000, Updates: 1_000}

// CycleCarried is a cycle's state across continue-as-new: everything its
// queries, updates and the rest of its run need.
type CycleCarried struct {
	Record  CycleRecord             `json:"record"`
	Results []ResultRef             `json:"results"` // by assessment id
	Appeals map[string]AppealStatus `json:"appeals"` // the open ones end by SignalAppealEnded
	// Calendar is the overrides the cycle started with (R2: kept).
	Calendar []calendar.Override `json:"calendar"`
	// LateEntries counts the late entries counted so far (R4.0).
	LateEntries int `json:"late_entries"`
	// Continued counts the runs before the next one.
	Continued int `json:"continued"`
}

// LateEntryInput is the cycle's late-entry update (R4.0).
type LateEntryInput struct {
	// Key identifies this attempt to store the entry; it is also the update
	// ID, so a retried request to Temporal is one update.
	Key string `json:"key"`
	// Entry says what arrived (the HTTP route), for the history.
	Entry string `json:"entry"`
	// At is the entry's own instant (R4.0), in the cycle's month.
	At time.Time `json:"at"`
}

// LateEntryOutput is the answer once the entry is counted: the month's
// results were recomputed after the entry's transaction ended.
type LateEntryOutput struct {
	Month        string      `json:"month"`
	Counted      bool        `json:"counted"`
	Status       CycleStatus `json:"status"`
	ResultsCount int         `json:"results_count"`
}

// AppealEnded is SignalAppealEnded's payload.
type AppealEnded struct {
	AppealID string       `json:"appeal_id"`
	Status   AppealStatus `json:"status"`
	// Failed: the appeal ended with an error (counted as rejected, as a
	// failed child always was).
	Failed bool `json:"failed,omitempty"`
}

// ResultRef is what the cycle keeps of each published result: enough for
// the open-appeal validator (R6: the appellant owns the result).
type ResultRef struct {
	AssessmentID string         `json:"assessment_id"`
	EmployeeID   string         `json:"employee_id"`
	TeamID       string         `json:"team_id"`
	ManagerID    string         `json:"manager_id"` // stage 1 of an appeal
	HeadID       string         `json:"head_id"`    // a skip-level appeal
	Score        scoring.Tenths `json:"score"`      // as published
	Band         string         `json:"band"`       // as published
	Deductions   int            `json:"deductions"` // confirmed deductions count
}

// ComputeResultsOutput is what ComputeResults wrote for the month.
type ComputeResultsOutput struct {
	Results []ResultRef `json:"results"`
}

// ServiceStar is a month's CSI service star nomination (R5.2).
type ServiceStar struct {
	AssessmentID string         `json:"assessment_id"`
	EmployeeID   string         `json:"employee_id"`
	TeamID       string         `json:"team_id"`
	Score        scoring.Tenths `json:"score"`
}

// CycleRecord is a cycle's state written to PostgreSQL (idempotent upsert).
type CycleRecord struct {
	Month        string        `json:"month"`
	Status       CycleStatus   `json:"status"`
	PublishedAt  *time.Time    `json:"published_at"`
	WindowEndsAt *time.Time    `json:"window_ends_at"`
	FinalizedAt  *time.Time    `json:"finalized_at"`
	ResultsCount int           `json:"results_count"`
	OpenAppeals  int           `json:"open_appeals"`
	StartedBy    string        `json:"started_by"`
	ServiceStars []ServiceStar `json:"service_stars"`
}

// CycleState is the query answer of a cycle (GET /assessment-cycles/{month}).
type CycleState struct {
	CycleRecord
	Appeals map[string]AppealStatus `json:"appeals"` // appeal id -> status
	// PolicyVersion is the assessment policy the cycle runs by.
	PolicyVersion int `json:"policy_version"`
	// LateEntries counts the entries the cycle accepted late and counted
	// (R4.0); LateEntriesPending those accepted and not yet recomputed.
	LateEntries        int `json:"late_entries"`
	LateEntriesPending int `json:"late_entries_pending"`
	// ContinuedAsNew counts the cycle's runs before the current one (issue 13).
	ContinuedAsNew int `json:"continued_as_new"`
}

// FinalizeInput finalizes a month: results final, probation flags set (R4.4).
type FinalizeInput struct {
	Month    string           `json:"month"`
	At       time.Time        `json:"at"`
	Policy   AssessmentPolicy `json:"policy"`   // the cycle's: the service-star threshold (R5.2)
	Location string           `json:"location"` // the cycle's zone (R4.0)
}

// FinalizeOutput lists what finalizing found.
type FinalizeOutput struct {
	Final        int           `json:"final"`
	Probation    []string      `json:"probation"` // employee ids put on probation
	ServiceStars []ServiceStar `json:"service_stars"`
	// RewardPolicy is the reward policy in force at the finalization, the
	// one the month's service stars are nominated with (zero in runs
	// recorded before policies were versioned: the rule book's).
	RewardPolicy RewardPolicy `json:"reward_policy"`
}

// OpenAppealInput is the cycle's open-appeal update (R6).
type OpenAppealInput struct {
	AssessmentID string `json:"assessment_id"`
	AppellantID  string `json:"appellant_id"`
	Reason       string `json:"reason"`
}

// OpenAppealOutput names the appeal started.
type OpenAppealOutput struct {
	AppealID   string `json:"appeal_id"`
	WorkflowID string `json:"workflow_id"`
}

// AppealStatus is an appeal's status of api.md.
type AppealStatus string

const (
	AppealOpen      AppealStatus = "open"
	AppealWithdrawn AppealStatus = "withdrawn"
	AppealUpheld    AppealStatus = "upheld"
	AppealRejected  AppealStatus = "rejected"
)

// AppealInput starts an Appeal (a child of its month's cycle).
type AppealInput struct {
	AppealID     string              `json:"appeal_id"`
	AssessmentID string              `json:"assessment_id"`
	Month        string              `json:"month"`
	AppellantID  string              `json:"appellant_id"`
	ManagerID    string              `json:"manager_id"`
	HeadID       string              `json:"head_id"`
	Reason       string              `json:"reason"`
	OpenedAt     time.Time           `json:"opened_at"`
	Score        scoring.Tenths      `json:"score"` // the published score appealed against
	Policy       AssessmentPolicy    `json:"policy"`
	Calendar     []calendar.Override `json:"calendar"`
	Location     string              `json:"location"`
	// NotifyCycle: at its end the appeal signals its parent cycle
	// (SignalAppealEnded), which may have continued as new since. Set by
	// cycles that continue as new; appeals opened before did not signal.
	NotifyCycle bool `json:"notify_cycle,omitempty"`
}

// AppealState is the appeal of api.md (GET /appeals/{id}) and every command's answer.
type AppealState struct {
	ID               string          `json:"id"`
	AssessmentID     string          `json:"assessment_id"`
	AppellantID      string          `json:"appellant_id"`
	Stage            int             `json:"stage"`
	Status           AppealStatus    `json:"status"`
	DueAt            time.Time       `json:"due_at"`
	RemainingSeconds int64           `json:"remaining_seconds"`
	ReminderAt       *time.Time      `json:"reminder_at,omitempty"`
	EscalatedAt      *time.Time      `json:"escalated_at"` // the missed stage-2 deadline, escalated to the head of HR
	OriginalScore    scoring.Tenths  `json:"original_score"`
	CorrectedScore   *scoring.Tenths `json:"corrected_score"`
	Events           []Event         `json:"events"`
}

// Refresh recomputes remaining_seconds at now (negative once overdue).
func (s *AppealState) Refresh(now time.Time) {
	if s.Status == AppealOpen {
		s.RemainingSeconds = int64(s.DueAt.Sub(now) / time.Second)
	}
}

// Appeal command inputs; Actor is filled in by the server.
type (
	AcceptExplanationInput struct {
		Actor string `json:"actor"`
		Note  string `json:"note"`
	}
	EscalateAppealInput struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	DecideAppealInput struct {
		Actor          string          `json:"actor"`
		Outcome        AppealStatus    `json:"outcome"` // upheld or rejected
		CorrectedScore *scoring.Tenths `json:"corrected_score"`
		Reason         string          `json:"reason"`
	}
)

// AppealRecord is an appeal's state change written to PostgreSQL; on an
// upheld decision the activity corrects the result (original kept, band
// recomputed, the assessor's record noted: R6).
type AppealRecord struct {
	State     AppealState        `json:"state"`
	Month     string             `json:"month"`
	Decision  *DecideAppealInput `json:"decision,omitempty"`
	DecidedAt *time.Time         `json:"decided_at,omitempty"`
}

// AppealNotice is a reminder or escalation of an appeal (R6).
type AppealNotice struct {
	Key        string    `json:"key"`
	Kind       string    `json:"kind"` // reminder, escalation, outcome
	AppealID   string    `json:"appeal_id"`
	Recipients []string  `json:"recipients"`
	DueAt      time.Time `json:"due_at"`
	At         time.Time `json:"at"`
}

// HRHeadRecipient is where a missed stage-2 deadline escalates (R6).
const HRHeadRecipient = "hr_head"
