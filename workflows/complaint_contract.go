package workflows

import (
	"fmt"
	"time"

	"github.com/acme/aftersales/calendar"
	"github.com/acme/aftersales/scoring"
)

// The contract of the Complaint workflow (R3): its ID, task-queue-independent
// names, and one input/result type per workflow, update and query. The HTTP
// layer imports this file's types, never the workflow's internals.

// ComplaintWorkflowType is the registered workflow type name.
const ComplaintWorkflowType = "Complaint"

// ComplaintWorkflowID derives the workflow ID from the business key, so a
// second start for the same complaint number finds the first (idempotency).
func ComplaintWorkflowID(complaintNo string) string { return "complaint:" + complaintNo }

// Update and query names.
const (
	UpdateContact  = "contact"
	UpdatePlan     = "plan"
	UpdateResolve  = "resolve"
	UpdatePause    = "pause"
	UpdateResume   = "resume"
	UpdateReassign = "reassign"
	UpdateExtend   = "extend"
	UpdateReopen   = "reopen"
	UpdateSurvey   = "survey"
	// UpdateRecalculate applies a recorded recalculation (R2, last rule);
	// QueryRecalculation previews it without changing anything.
	UpdateRecalculate  = "recalculate"
	QueryRecalculation = "recalculation"
	// UpdateCreated answers with the state once the complaint's read model
	// has been written: the create sends it with the start
	// (Update-With-Start), so one round trip starts the workflow and returns
	// what its first task made of it. A retried create sends it to the
	// running workflow and gets the state as it is now.
	UpdateCreated = "created"
	QueryState    = "state"
)

// ComplaintStatus is the complaint's status of api.md.
type ComplaintStatus string

const (
	StatusOpen     ComplaintStatus = "open"
	StatusResolved ComplaintStatus = "resolved"
	StatusReopened ComplaintStatus = "reopened"
	StatusClosed   ComplaintStatus = "closed"
)

// ClockName names the three clocks of R3.
type ClockName string

const (
	ClockContact    ClockName = "contact"
	ClockPlan       ClockName = "plan"
	ClockResolution ClockName = "resolution"
)

// Clocks lists the clocks in the order they are reported and processed.
var Clocks = []ClockName{ClockContact, ClockPlan, ClockResolution}

// SLAPolicy is carried in the workflow input, so every complaint keeps the
// policy and deadlines it started with (R2, last bullet).
type SLAPolicy struct {
	// Version is the policy record's (policy.go); 0 in runs started before
	// policies were versioned, which had the rule book's, version 1.
	Version               int      `json:"version,omitempty"`
	ContactWithin         Duration `json:"contact_within"`          // R3: 24 h elapsed
	PlanWithin            Duration `json:"plan_within"`             // R3: 48 h elapsed
	ResolutionWorkingDays int      `json:"resolution_working_days"` // R3: 7 working days (R2)
	WarningFraction       float64  `json:"warning_fraction"`        // R3: warn at 75% of a clock
	Level2WorkingDays     int      `json:"level2_working_days"`     // R3: level 2 one working day after the miss
	ReopenWithin          Duration `json:"reopen_within"`           // R3: the customer may reopen within 30 days
	DeductionPoints       int      `json:"deduction_points"`        // R3, R4.4: 20 points, untimely service
}

// DefaultSLAPolicy is the policy of R3.
func DefaultSLAPolicy() SLAPolicy {
	return SLAPolicy{
		Version:               1,
		ContactWithin:         Duration(24 * time.Hour),
		PlanWithin:            Duration(48 * time.Hour),
		ResolutionWorkingDays: 7,
		WarningFraction:       0.75,
		Level2WorkingDays:     1,
		ReopenWithin:          Duration(30 * 24 * time.Hour),
		DeductionPoints:       20,
	}
}

// Validate reports a policy that cannot work.
func (p SLAPolicy) Validate() error {
	switch {
	case p.ContactWithin <= 0 || p.PlanWithin <= 0 || p.ContactWithin > maxPolicyHours || p.PlanWithin > maxPolicyHours:
		return fmt.Errorf("contact and plan durations must be positive and at most %s", maxPolicyHours)
	case p.ResolutionWorkingDays < 1 || p.Level2WorkingDays < 1 || p.ResolutionWorkingDays > maxWorkingDays || p.Level2WorkingDays > maxWorkingDays:
		return fmt.Errorf("working-day counts must be 1..%d", maxWorkingDays)
	case p.WarningFraction <= 0 || p.WarningFraction >= 1:
		return fmt.Errorf("warning fraction must be between 0 and 1")
	case p.ReopenWithin <= 0 || p.ReopenWithin > maxReopenWindow:
		return fmt.Errorf("reopen window must be positive and at most %s", maxReopenWindow)
	case p.DeductionPoints < 0 || p.DeductionPoints > 100:
		return fmt.Errorf("deduction points must be 0..100")
	}
	return nil
}

// ComplaintInput starts a Complaint. It carries no personal data: the
// customer's name and phone stay in PostgreSQL (R7), out of workflow history.
type ComplaintInput struct {
	ComplaintNo string    `json:"complaint_no"`
	AssigneeID  string    `json:"assignee_id"`
	TeamID      string    `json:"team_id"`
	ManagerID   string    `json:"manager_id"` // the assignee's team supervisor: level 1 goes to them
	HeadID      string    `json:"head_id"`    // the department head: level 2 goes to them
	ReceivedAt  time.Time `json:"received_at"`
	CreatedBy   string    `json:"created_by"`
	Policy      SLAPolicy `json:"policy"`
	// Calendar is the company overrides in force at receipt; with the
	// shipped official data they fix the complaint's working days (R2).
	Calendar []calendar.Override `json:"calendar"`
	Location string              `json:"location"` // IANA zone name of the calendar
	// HistoryBudget is how many history events a run may reach before it
	// continues as new (issue 13 item 2); 0, as every create sends it, is
	// the default (1,000). Tests set a small one.
	HistoryBudget int `json:"history_budget,omitempty"`
	// Carried is the state a run continued as new hands to the next one
	// (complaint_carry.go); nil in a complaint's first run, whose input is
	// what the create sends. Workflow-internal: the HTTP layer never sets it.
	Carried *complaintCarry `json:"carried,omitempty"`
}

// Clock is one clock of api.md.
type Clock struct {
	Name             ClockName  `json:"name"`
	DueAt            time.Time  `json:"due_at"`
	MetAt            *time.Time `json:"met_at"`
	Breached         bool       `json:"breached"`
	Paused           bool       `json:"paused"`
	RemainingSeconds int64      `json:"remaining_seconds"` // negative once overdue; frozen while paused or once met
	PausedAt         *time.Time `json:"paused_at,omitempty"`
	WarnedAt         *time.Time `json:"warned_at,omitempty"`
	// While the clock runs: when its R3 warning falls due (the warning
	// fraction of its time) and when level 2 fires if it stays unmet. Level
	// 1 fires at DueAt. The console's board shows them; the workflow is
	// their one home.
	WarnAt      *time.Time `json:"warn_at,omitempty"`
	Level2DueAt *time.Time `json:"level2_due_at,omitempty"`
}

// Escalation is one escalation of api.md. Its ID is stable:
// "<complaint_no>.<clock>.<level>" (exactly one per complaint, clock, level);
// complaint numbers hold no dots, so the ID is one URL path segment.
type Escalation struct {
	ID             string     `json:"id"`
	ComplaintNo    string     `json:"complaint_no"`
	Clock          ClockName  `json:"clock"`
	Level          int        `json:"level"`
	EscalatedAt    time.Time  `json:"escalated_at"`
	EscalatedTo    []string   `json:"escalated_to"`
	AcknowledgedAt *time.Time `json:"acknowledged_at"`
	AcknowledgedBy *string    `json:"acknowledged_by"`
}

// EscalationID is the stable id of an escalation.
func EscalationID(complaintNo string, clock ClockName, level int) string {
	return fmt.Sprintf("%s.%s.%d", complaintNo, clock, level)
}

// Event is one entry of the complaint's audit trail (R7).
type Event struct {
	Seq     int            `json:"seq"`
	Type    string         `json:"type"`
	ActorID string         `json:"actor_id"` // "system" for the clocks' own events
	At      time.Time      `json:"at"`
	Reason  string         `json:"reason"`
	Data    map[string]any `json:"data,omitempty"`
}

// Event types of the complaint's audit trail; the metrics are derived from them.
const (
	EventReceived   = "received"
	EventContacted  = "contacted"
	EventPlanned    = "planned"
	EventResolved   = "resolved"
	EventPaused     = "paused"
	EventResumed    = "resumed"
	EventReassigned = "reassigned"
	EventExtended   = "extended"
	EventReopened   = "reopened"
	EventSurveyed   = "surveyed"
	EventWarning    = "warning"
	EventBreached   = "breached"
	EventEscalated  = "escalated"
	EventClosed     = "closed"
	// EventRecalculated: deadlines moved by a recorded recalculation (R2).
	EventRecalculated = "recalculated"
)

// SystemActor attributes the workflow's own events (warnings, escalations).
const SystemActor = "system"

// ComplaintState is the live state of GET /complaints/{no} and of every
// command's answer.
type ComplaintState struct {
	ComplaintNo   string          `json:"complaint_no"`
	Status        ComplaintStatus `json:"status"`
	AssigneeID    string          `json:"assignee_id"`
	TeamID        string          `json:"team_id"`
	ReceivedAt    time.Time       `json:"received_at"`
	ResolvedAt    *time.Time      `json:"resolved_at"`
	FirstTimeFix  bool            `json:"first_time_fix"`
	Clocks        []Clock         `json:"clocks"`
	Escalations   []Escalation    `json:"escalations"`
	Events        []Event         `json:"events"`
	SurveyPending bool            `json:"survey_pending"`
	NextDueAt     *time.Time      `json:"next_due_at"`
	AsOf          time.Time       `json:"as_of"`
	// PolicyVersion is the complaint policy the case runs by (R2: the one
	// in force at receipt, kept).
	PolicyVersion int `json:"policy_version"`
}

// Update inputs. Actor is the authenticated caller, filled in by the server.
type (
	ContactInput struct {
		Actor       string     `json:"actor"`
		Note        string     `json:"note"`
		ContactedAt *time.Time `json:"contacted_at,omitempty"`
	}
	PlanInput struct {
		Actor string `json:"actor"`
		Plan  string `json:"plan"`
	}
	ResolveInput struct {
		Actor      string `json:"actor"`
		Resolution string `json:"resolution"`
	}
	PauseInput struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	ResumeInput struct {
		Actor string `json:"actor"`
	}
	ReassignInput struct {
		Actor      string `json:"actor"`
		AssigneeID string `json:"assignee_id"`
		TeamID     string `json:"team_id"`
		ManagerID  string `json:"manager_id"`
		HeadID     string `json:"head_id"`
		Reason     string `json:"reason"`
	}
	ExtendInput struct {
		Actor  string    `json:"actor"`
		Clock  ClockName `json:"clock"`
		DueAt  time.Time `json:"due_at"`
		Reason string    `json:"reason"`
	}
	ReopenInput struct {
		Actor  string `json:"actor"`
		Reason string `json:"reason"`
	}
	// RecalculateInput is a recalculation's rules for one complaint: the
	// calendar overrides now in force and, when the recalculation moves
	// cases to another version, that policy (nil: the complaint keeps its
	// own). BatchID names the recalculation (package server, recalculations).
	RecalculateInput struct {
		Actor    string              `json:"actor"`
		Reason   string              `json:"reason"`
		BatchID  string              `json:"batch_id"`
		Calendar []calendar.Override `json:"calendar"`
		Policy   *SLAPolicy          `json:"policy,omitempty"`
	}
	SurveyInput struct {
		Actor      string     `json:"actor"`
		Ratings    Ratings    `json:"ratings"`
		SurveyedAt *time.Time `json:"surveyed_at,omitempty"`
	}
)

// ClockChange is one clock's deadline before and after a recalculation.
type ClockChange struct {
	Clock    ClockName `json:"clock"`
	OldDueAt time.Time `json:"old_due_at"`
	NewDueAt time.Time `json:"new_due_at"`
}

// RecalculateResult answers UpdateRecalculate: the new state and what moved.
type RecalculateResult struct {
	State   ComplaintState `json:"state"`
	Changes []ClockChange  `json:"changes"`
	// Applied: deadlines or the policy version changed, and the case's
	// audit trail has the event.
	Applied bool `json:"applied"`
}

// maxCalendarOverrides bounds the overrides a workflow input may carry.
const maxCalendarOverrides = 5000

// Ratings are the five dimensions of a satisfaction survey (R4.1), each
// 1..5: scoring's, the one home of their weights and range.
type Ratings = scoring.Ratings

// Read-model records written by activities (see package activities). Every
// write is keyed by (complaint_no, seq) or (complaint_no, clock, level), so a
// retried activity never duplicates a row.
type (
	// ComplaintSync is everything one state change writes to PostgreSQL, in
	// one transaction: the complaint row, new events, new escalations, a
	// deduction proposal, a survey.
	ComplaintSync struct {
		State       ComplaintState     `json:"state"`
		Events      []Event            `json:"events"`
		Escalations []Escalation       `json:"escalations,omitempty"`
		Deduction   *DeductionProposal `json:"deduction,omitempty"`
		Survey      *SurveyRecord      `json:"survey,omitempty"`
	}
	// DeductionProposal is the one 20-point proposal of a complaint's first
	// missed clock (R3, R4.4), against the assignee at that moment.
	DeductionProposal struct {
		ComplaintNo string    `json:"complaint_no"`
		EmployeeID  string    `json:"employee_id"`
		ReasonCode  string    `json:"reason_code"` // untimely_service
		Points      int       `json:"points"`
		OccurredAt  time.Time `json:"occurred_at"`
	}
	// SurveyRecord is one satisfaction survey (R4.1): one per resolution.
	SurveyRecord struct {
		ComplaintNo string    `json:"complaint_no"`
		Resolution  int       `json:"resolution"` // 1 for the first resolution, 2 after a reopen ...
		EmployeeID  string    `json:"employee_id"`
		Ratings     Ratings   `json:"ratings"`
		Score       float64   `json:"score"`
		SurveyedAt  time.Time `json:"surveyed_at"`
		RecordedBy  string    `json:"recorded_by"`
	}
	// Notification is a warning or escalation to deliver (R3). Key is the
	// idempotency key, identical on every retry of the same notice.
	Notification struct {
		Key         string    `json:"key"`
		Kind        string    `json:"kind"` // warning, escalation
		ComplaintNo string    `json:"complaint_no"`
		Clock       ClockName `json:"clock"`
		Level       int       `json:"level,omitempty"`
		DueAt       time.Time `json:"due_at"`
		Recipients  []string  `json:"recipients"`
		At          time.Time `json:"at"`
	}
)

// Activity names the Complaint workflow calls (registered by the worker from
// activities.Activities); by name, so workflow code never imports activities.
const (
	ActivitySyncComplaint = "SyncComplaint"
	ActivityNotify        = "Notify"
)

// Error types of rejected updates: the HTTP layer answers 400 for
// ErrInvalidInput and 409 for ErrConflict (the state forbids the command).
const (
	ErrInvalidInput = "InvalidInput"
	ErrConflict     = "Conflict"
	// ErrReadModelRefused is a read-model write PostgreSQL refused as bad
	// data (package activities, refused.go): retrying cannot help, so the
	// workflow logs it and carries on; it is counted for alerting.
	ErrReadModelRefused = "ReadModelRefused"
)

// Refresh settles the clocks at now (a query answers with the state as of
// the last workflow task; the caller knows the real time).
func (s *ComplaintState) Refresh(now time.Time) {
	s.AsOf = now
	for i := range s.Clocks {
		s.Clocks[i].Settle(now)
	}
}

// The clock arithmetic of R3, one home for the workflow, the read model's
// writer, the lists and the console: what runs, what is missed, what is
// left, what is due next. (The deadlines themselves, the warning and the
// level-2 instants are the workflow's: it computes and records them.)

// Running: unmet and not paused, so its deadline counts down (R3: pause
// time does not count).
func (c Clock) Running() bool { return c.MetAt == nil && !c.Paused }

// Missed reports a clock met at or after its deadline, or running at or
// past it at now: a clock is met by anything strictly before its deadline
// (R2). A paused clock is not missed while it is paused.
func (c Clock) Missed(now time.Time) bool {
	if c.MetAt != nil {
		return !c.MetAt.Before(c.DueAt)
	}
	return !c.Paused && !now.Before(c.DueAt)
}

// Settle sets what follows from the deadline at now: the remaining seconds
// (negative once overdue; frozen once met or while paused) and Breached
// (escalated, which the workflow sets, or missed).
func (c *Clock) Settle(now time.Time) {
	c.RemainingSeconds = c.Remaining(now)
	c.Breached = c.Breached || c.Missed(now)
}

// NextDue is the earliest deadline of a running clock, nil when none runs
// (the complaint's next_due_at).
func NextDue(clocks []Clock) *time.Time {
	var next *time.Time
	for _, c := range clocks {
		if c.Running() && !c.DueAt.IsZero() && (next == nil || c.DueAt.Before(*next)) {
			d := c.DueAt
			next = &d
		}
	}
	return next
}

// Clock states as people see them (R3): met; paused (the resolution clock
// only); breached (escalated, or past its deadline); warned (past its
// warning instant); else running. The read model's view open_clocks
// (migration 00013) says the same of unmet clocks for lists and gauges.
const (
	ClockMet      = "met"
	ClockPaused   = "paused"
	ClockBreached = "breached"
	ClockWarned   = "warned"
	ClockRunning  = "running"
)

// State is the clock's state at now.
func (c Clock) State(now time.Time) string {
	switch {
	case c.MetAt != nil:
		return ClockMet
	case c.Paused:
		return ClockPaused
	case c.Breached || c.Missed(now):
		return ClockBreached
	case c.WarnAt != nil && !now.Before(*c.WarnAt):
		return ClockWarned
	default:
		return ClockRunning
	}
}

// Remaining is the seconds left at now: negative once overdue, frozen at
// the meeting once met and at the pause while paused.
func (c Clock) Remaining(now time.Time) int64 {
	switch {
	case c.MetAt != nil:
		return int64(c.DueAt.Sub(*c.MetAt) / time.Second)
	case c.Paused && c.PausedAt != nil:
		return int64(c.DueAt.Sub(*c.PausedAt) / time.Second)
	case c.Paused: // paused, the instant unknown (a list row): nothing to count
		return 0
	default:
		return int64(c.DueAt.Sub(now) / time.Second)
	}
}

// StaticSummary is the one line the Temporal Web UI shows for a
// complaint's workflow, set where it is started (issue 13 item 5): the
// number, the assignee and the receipt; no personal data (R7).
func (in ComplaintInput) StaticSummary() string {
	return fmt.Sprintf("Complaint %s: assigned to %s (team %s), received %s",
		in.ComplaintNo, in.AssigneeID, in.TeamID, shownAt(in.ReceivedAt, locationOf(in.Location)))
}

// StaticDetails is the SLA policy the complaint runs by (R2, R3), as the
// Web UI shows it beside the summary.
func (in ComplaintInput) StaticDetails() string {
	p := in.Policy
	return fmt.Sprintf("SLA policy v%d (R3): contact within %s, plan within %s, resolution within %d working days "+
		"(R2, %s, %d company overrides); warning at %g%% of a clock; level 2 %d working day(s) after a miss; "+
		"reopen within %s; %d points deducted for the first miss.",
		shownVersion(p.Version), p.ContactWithin, p.PlanWithin, p.ResolutionWorkingDays, locationOf(in.Location),
		len(in.Calendar), p.WarningFraction*100, p.Level2WorkingDays, p.ReopenWithin, p.DeductionPoints)
}
