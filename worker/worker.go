// Package worker hosts the workflows and activities on a Temporal task queue.
// It talks to Temporal only through the SDK, so the production worker binary
// runs against any cluster (and never links the Temporal server).
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/acme/aftersales/activities"
	"github.com/acme/aftersales/activities/webhook"
	"github.com/acme/aftersales/workflows"
)

// Deps are what the activities need.
type Deps struct {
	Pool *pgxpool.Pool
	// Registry receives the business metrics; nil records none.
	Registry prometheus.Registerer
	// WebhookURL receives warnings and escalations; empty: they are logged.
	WebhookURL string
	// WebhookSecrets sign every notice POSTed to WebhookURL, one signature
	// each (config.Config.WebhookSecrets); empty: unsigned.
	WebhookSecrets []webhook.Secret
	Logger         *slog.Logger
	// StickyTimeout is how long a workflow's next task waits for the
	// worker that holds it in its cache before any worker may take it;
	// zero means the SDK's 5 s (see Options).
	StickyTimeout time.Duration
	// CacheSize bounds the workflows kept in memory between tasks (the
	// SDK's cache is per process); zero means DefaultCacheSize.
	CacheSize int
}

// OneWorkerStickyTimeout is the sticky timeout where one worker holds every
// workflow (make run): a burst's tasks wait for it rather than time out
// and queue again (see Options). It outlasts the drain of 10,000 deadlines
// at one instant on 2 cores (about 2 minutes); the price is that after a
// kill -9 of make run a task already queued for the dead worker waits up
// to this long (a clean stop hands its tasks back at once).
const OneWorkerStickyTimeout = 5 * time.Minute

// DefaultCacheSize bounds a production worker's workflow cache, and so its
// memory, however many cases are open: about 60 KB of RSS per cached
// complaint (5,000 cached: 341 MB; issue 9, README "Sizing"). A workflow
// not in the cache is replayed from its history on its next task (a few
// milliseconds for a complaint).
const DefaultCacheSize = 3000

// OneWorkerCacheSize is make run's: one process holds every open case and
// memory matters less there than a burst's replays (the SDK's default).
const OneWorkerCacheSize = 10000

// Options are the worker's throughput settings, the service's worker and
// the benchmark's raw-timer floor alike (issue 9, README "Performance"):
//   - 8 workflow-task pollers instead of 2: a burst of fired clocks is
//     drained by more concurrent long polls (1,000 due at one instant:
//     55 -> 72 escalations/s on 2 cores);
//   - the sticky timeout: with one worker (make run), a task that waits
//     longer than 5 s on that worker's sticky queue (a burst's backlog)
//     timed out and went back to the shared queue after a further wait
//     (10,000 at one instant: 5,812 timeouts with 60 s, none with 5 min),
//     so make run gives it OneWorkerStickyTimeout; several workers in
//     production keep the SDK's 5 s (WORKER_STICKY_TIMEOUT), so a dead
//     worker's workflows move on quickly.
func Options(stickyTimeout time.Duration) sdkworker.Options {
	return sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: 8,
		StickyScheduleToStartTimeout:     stickyTimeout,
	}
}

// New returns a worker on taskQueue with every workflow and activity registered.
func New(c client.Client, taskQueue string, d Deps) sdkworker.Worker {
	if d.CacheSize == 0 {
		d.CacheSize = DefaultCacheSize
	}
	sdkworker.SetStickyWorkflowCacheSize(d.CacheSize)
	w := sdkworker.New(c, taskQueue, Options(d.StickyTimeout))
	for name, fn := range map[string]any{
		workflows.ComplaintWorkflowType:           workflows.Complaint,
		workflows.AssessmentCycleWorkflowType:     workflows.AssessmentCycle,
		workflows.AppealWorkflowType:              workflows.Appeal,
		workflows.MonthlyCycleStarterWorkflowType: workflows.MonthlyCycleStarter,
		workflows.RewardWorkflowType:              workflows.RewardApproval,
		workflows.RecalculationWorkflowType:       workflows.Recalculation,
	} {
		w.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
	a := activities.New(d.Pool)
	a.WebhookURL, a.WebhookSecrets, a.Logger, a.Temporal = d.WebhookURL, d.WebhookSecrets, d.Logger, c
	logWebhook(d)
	if d.Registry != nil {
		a.Metrics = activities.NewMetrics(d.Registry, d.Pool)
	}
	w.RegisterActivity(a)
	return w
}

// logWebhook says once, at start, how notices leave this worker: an
// operator rotating secrets checks here which ones (by fingerprint, never
// the secret) the worker signs with, and an unsigned webhook is a warning.
func logWebhook(d Deps) {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	switch {
	case d.WebhookURL == "":
		log.Info("notices are logged, not sent: NOTIFY_WEBHOOK_URL is not set")
	case len(d.WebhookSecrets) == 0:
		log.Warn("notices are sent to the webhook UNSIGNED (NOTIFY_WEBHOOK_UNSIGNED=true): a receiver cannot tell them from forgeries")
	default:
		fps := make([]string, len(d.WebhookSecrets))
		for i, s := range d.WebhookSecrets {
			fps[i] = s.Fingerprint()
		}
		log.Info("notices are sent to the webhook signed (Standard Webhooks v1)", "secret_fingerprints", fps)
	}
}

// EnsureSearchAttributes registers the custom search attributes the
// workflows set (workflows.SearchAttributes) that the namespace lacks. It is
// idempotent; on a cluster where the caller may not manage the namespace it
// fails, and an operator registers them once (README).
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range slices.Sorted(maps.Keys(workflows.SearchAttributes)) {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = workflows.SearchAttributes[name]
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// EnsureSchedule creates the Temporal Schedule that starts each month's
// assessment on the 1st at 02:00 in the calendar's zone (R4.5: the previous
// month is assessed early each month). An existing schedule is left as it
// is, so an operator's changes (pause, new time) survive restarts.
func EnsureSchedule(ctx context.Context, c client.Client, taskQueue, location string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: workflows.AssessmentScheduleID,
		Spec: client.ScheduleSpec{
			CronExpressions: []string{"0 2 1 * *"}, // 02:00 on the 1st
			TimeZoneName:    location,
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        "assessment-cycle-starter",
			Workflow:  workflows.MonthlyCycleStarterWorkflowType,
			Args:      []any{workflows.DefaultAssessmentPolicy(), location},
			TaskQueue: taskQueue,
		},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	return err
}
