package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/calendar"
)

// The Recalculation workflow applies one recorded recalculation (R2, last
// rule) to a list of running complaints: an UpdateRecalculate to each,
// through an activity (a workflow cannot send an Update), a few at a time.
// It is the batch: durable, so an interrupted run (a worker killed, a
// deploy) resumes where it was; its query answers the progress, and its
// result, kept in PostgreSQL too, is the final report. Each case is sent
// with the batch's ID as the Update ID, so a retried send is applied once.

const (
	RecalculationWorkflowType = "Recalculation"
	QueryRecalculationReport  = "report"
	// Activities of the batch.
	ActivityRecalculateComplaint = "RecalculateComplaint"
	ActivityRecordRecalculation  = "RecordRecalculation"
)

// RecalculationWorkflowID derives the workflow ID from the batch ID.
func RecalculationWorkflowID(id string) string { return "recalculation:" + id }

// Outcomes of one case.
const (
	RecalcChanged   = "changed"   // deadlines moved (or the policy version): audited in the case
	RecalcUnchanged = "unchanged" // nothing to move
	RecalcSkipped   = "skipped"   // no longer running (resolved, closed) when its turn came
	RecalcFailed    = "failed"    // could not be sent; the report says why
)

// RecalculationInput is the batch: who, why, the rules, the cases. Next
// and Report carry the progress across continue-as-new.
type RecalculationInput struct {
	ID           string              `json:"id"`
	Actor        string              `json:"actor"`
	Reason       string              `json:"reason"`
	RequestedAt  time.Time           `json:"requested_at"`
	ComplaintNos []string            `json:"complaint_nos"`
	Calendar     []calendar.Override `json:"calendar"`
	Policy       *SLAPolicy          `json:"policy,omitempty"`
	Next         int                 `json:"next"`
	Report       RecalculationReport `json:"report"`
}

// RecalculationItem is one case's outcome; the report lists every case
// that did not come out unchanged.
type RecalculationItem struct {
	ComplaintNo string        `json:"complaint_no"`
	Outcome     string        `json:"outcome"`
	Changes     []ClockChange `json:"changes,omitempty"`
	Error       string        `json:"error,omitempty"`
}

// RecalculationReport is the progress, and at the end the final report.
type RecalculationReport struct {
	ID            string              `json:"id"`
	Status        string              `json:"status"` // running, completed
	RequestedBy   string              `json:"requested_by"`
	RequestedAt   time.Time           `json:"requested_at"`
	Reason        string              `json:"reason"`
	PolicyVersion *int                `json:"policy_version"`
	Total         int                 `json:"total"`
	Done          int                 `json:"done"`
	Changed       int                 `json:"changed"`
	Unchanged     int                 `json:"unchanged"`
	Skipped       int                 `json:"skipped"`
	Failed        int                 `json:"failed"`
	Items         []RecalculationItem `json:"items"`
	FinishedAt    *time.Time          `json:"finished_at"`
}

// FirstReport is the batch's report before any case: what the workflow
// starts from and what the request that started it answers.
func (in RecalculationInput) FirstReport() RecalculationReport {
	r := RecalculationReport{ID: in.ID, Status: "running", RequestedBy: in.Actor, RequestedAt: in.RequestedAt,
		Reason: in.Reason, Total: len(in.ComplaintNos), Items: []RecalculationItem{}}
	if in.Policy != nil {
		v := in.Policy.Version
		r.PolicyVersion = &v
	}
	return r
}

// RecalculateComplaintInput is one case of the batch.
type RecalculateComplaintInput struct {
	ComplaintNo string           `json:"complaint_no"`
	Input       RecalculateInput `json:"input"`
}

// recalcWindow cases are in flight at once; recalcPerRun cases run before
// the history continues as new (about 4 events a case).
const (
	recalcWindow = 8
	recalcPerRun = 500
)

// Recalculation runs the batch.
func Recalculation(ctx workflow.Context, in RecalculationInput) (RecalculationReport, error) {
	first := in.Report.ID == ""
	if first {
		in.Report = in.FirstReport()
	}
	// Before anything blocks: the request that started the batch asks at once.
	report := &in.Report
	if err := workflow.SetQueryHandler(ctx, QueryRecalculationReport, func() (RecalculationReport, error) { return *report, nil }); err != nil {
		return *report, err
	}
	if first {
		if err := recordRecalculation(ctx, in.Report); err != nil {
			return in.Report, err
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		// A case that cannot be sent within this is reported as failed;
		// the batch goes on (and may be run again for those cases).
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	send := RecalculateInput{Actor: in.Actor, Reason: in.Reason, BatchID: in.ID, Calendar: in.Calendar, Policy: in.Policy}
	for ran := 0; in.Next < len(in.ComplaintNos); {
		if ran >= recalcPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return *report, workflow.NewContinueAsNewError(ctx, Recalculation, in)
		}
		chunk := in.ComplaintNos[in.Next:min(in.Next+recalcWindow, len(in.ComplaintNos))]
		futures := make([]workflow.Future, len(chunk))
		for i, no := range chunk {
			futures[i] = workflow.ExecuteActivity(actx, ActivityRecalculateComplaint, RecalculateComplaintInput{ComplaintNo: no, Input: send})
		}
		for i, f := range futures {
			item := RecalculationItem{ComplaintNo: chunk[i]}
			if err := f.Get(ctx, &item); err != nil {
				item = RecalculationItem{ComplaintNo: chunk[i], Outcome: RecalcFailed, Error: err.Error()}
			}
			report.add(item)
		}
		in.Next += len(chunk)
		ran += len(chunk)
	}
	now := workflow.Now(ctx)
	report.Status, report.FinishedAt = "completed", &now
	return *report, recordRecalculation(ctx, *report)
}

func (r *RecalculationReport) add(item RecalculationItem) {
	r.Done++
	switch item.Outcome {
	case RecalcChanged:
		r.Changed++
	case RecalcUnchanged:
		r.Unchanged++
		return // counted, not listed
	case RecalcSkipped:
		r.Skipped++
	default:
		r.Failed++
	}
	r.Items = append(r.Items, item)
}

// recordRecalculation writes the report to PostgreSQL (an upsert: the
// first run's row, then the final report).
func recordRecalculation(ctx workflow.Context, report RecalculationReport) error {
	return carryOnIfRefused(ctx, workflow.ExecuteActivity(activityOptions(ctx), ActivityRecordRecalculation, report).Get(ctx, nil))
}
