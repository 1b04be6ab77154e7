package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// R2, last rule: the batch sends every case once, reports each outcome,
// continues as new past its per-run budget with its progress, and writes
// its report at the start and at the end.
func TestR2_RecalculationBatchContinuesAsNewAndReports(t *testing.T) {
	n := recalcPerRun + recalcWindow + 3 // past one run's budget
	in := RecalculationInput{ID: "b1", Actor: "officer1", Reason: "day off", RequestedAt: monday}
	for i := range n {
		in.ComplaintNos = append(in.ComplaintNos, fmt.Sprintf("C-%04d", i))
	}
	var (
		mu       sync.Mutex
		sent     = map[string]int{}
		recorded []RecalculationReport
	)
	send := func(_ context.Context, c RecalculateComplaintInput) (RecalculationItem, error) {
		mu.Lock()
		defer mu.Unlock()
		sent[c.ComplaintNo]++
		if c.Input.BatchID != "b1" || c.Input.Reason != "day off" {
			return RecalculationItem{}, temporal.NewNonRetryableApplicationError("wrong input", "bad", nil)
		}
		switch c.ComplaintNo {
		case "C-0001":
			return RecalculationItem{ComplaintNo: c.ComplaintNo, Outcome: RecalcSkipped, Error: "no longer running"}, nil
		case "C-0002":
			return RecalculationItem{}, temporal.NewNonRetryableApplicationError("unreachable", "x", errors.New("x"))
		case "C-0003":
			return RecalculationItem{ComplaintNo: c.ComplaintNo, Outcome: RecalcUnchanged}, nil
		}
		return RecalculationItem{ComplaintNo: c.ComplaintNo, Outcome: RecalcChanged,
			Changes: []ClockChange{{Clock: ClockResolution, OldDueAt: monday, NewDueAt: monday.Add(24 * time.Hour)}}}, nil
	}
	record := func(_ context.Context, r RecalculationReport) error {
		mu.Lock()
		defer mu.Unlock()
		recorded = append(recorded, r)
		return nil
	}
	runs := 0
	var report RecalculationReport
	for {
		runs++
		var s testsuite.WorkflowTestSuite
		s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(Recalculation, workflow.RegisterOptions{Name: RecalculationWorkflowType})
		env.RegisterActivityWithOptions(send, activity.RegisterOptions{Name: ActivityRecalculateComplaint})
		env.RegisterActivityWithOptions(record, activity.RegisterOptions{Name: ActivityRecordRecalculation})
		env.ExecuteWorkflow(RecalculationWorkflowType, in)
		err := env.GetWorkflowError()
		var next *workflow.ContinueAsNewError
		if errors.As(err, &next) {
			if err := converter.GetDefaultDataConverter().FromPayloads(next.Input, &in); err != nil { // the next run's input: the progress so far
				t.Fatal(err)
			}
			if in.Next < recalcPerRun || in.Next >= n || in.Report.Done != in.Next {
				t.Fatalf("carried next %d done %d", in.Next, in.Report.Done)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := env.GetWorkflowResult(&report); err != nil {
			t.Fatal(err)
		}
		break
	}
	if runs != 2 {
		t.Errorf("%d runs, want 2", runs)
	}
	for _, no := range in.ComplaintNos {
		if sent[no] != 1 {
			t.Fatalf("%s sent %d times", no, sent[no])
		}
	}
	if report.Status != "completed" || report.Total != n || report.Done != n || report.Changed != n-3 ||
		report.Skipped != 1 || report.Failed != 1 || report.Unchanged != 1 || len(report.Items) != n-1 || report.FinishedAt == nil {
		t.Errorf("report: %+v", report)
	}
	if len(recorded) != 2 || recorded[0].Status != "running" || recorded[1].Status != "completed" {
		t.Errorf("recorded %d reports", len(recorded))
	}
}
