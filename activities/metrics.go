package activities

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// Metrics are the complaint SLA metrics (R3), the appeal metrics (R6) and
// the reward metrics (R5).
// Labels are clock names, reward kinds and steps, outcomes and levels only:
// never complaint numbers, appeal ids, nomination numbers or personal data
// (R7). A nil *Metrics records nothing.
type Metrics struct {
	received        prometheus.Counter
	clocks          *prometheus.CounterVec // clock, outcome = met | breached
	timeToContact   prometheus.Histogram
	timeToPlan      prometheus.Histogram
	timeToResolve   prometheus.Histogram
	warnings        *prometheus.CounterVec // clock
	escalations     *prometheus.CounterVec // clock, level
	lateness        prometheus.Histogram   // level-1 escalation fired -> its deadline
	openEscalations *openEscalationsCollector

	// R6 appeals (assessment.go observes them, for rows that were new).
	appealsOpened         prometheus.Counter
	appealsDecided        *prometheus.CounterVec // outcome = upheld | rejected | withdrawn
	appealDecisionTime    prometheus.Histogram   // opened -> upheld/rejected, seconds on working days (R2)
	appealDeadlinesMissed prometheus.Counter

	// R5 rewards (rewards.go observes them, for rows that were new).
	rewards           *prometheus.CounterVec   // kind, outcome
	rewardStepSeconds *prometheus.HistogramVec // step
	rewardPaidFen     prometheus.Counter
	overdueSteps      *overdueRewardStepsCollector

	// Read-model writes PostgreSQL refused (refused.go): alert on any increase.
	refusedWrites *prometheus.CounterVec // record, outcome
}

// appealBuckets span R6's deadlines in working time (a working day counts
// 24 h), in seconds like every duration metric (Prometheus' base unit):
// stage 1 is 2 working days (48 h), stage 2 five more (168 h in all), with
// room for late decisions.
var appealBuckets = func() []float64 {
	hours := []float64{4, 8, 12, 24, 36, 48, 72, 96, 120, 144, 168, 192, 240, 336}
	b := make([]float64, len(hours))
	for i, h := range hours {
		b[i] = h * time.Hour.Seconds()
	}
	return b
}()

// latenessBuckets span how late a level-1 escalation fires after its
// deadline: a healthy worker fires within a second; issue 9 measured a
// 2,000-deadline burst at p99 106-140 s on make run.
var latenessBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// slaBuckets span the clocks of R3: minutes (a fast first contact) to weeks
// (7 working days across a holiday such as 国庆节, plus extensions).
var slaBuckets = []float64{
	(15 * time.Minute).Seconds(), (30 * time.Minute).Seconds(),
	(1 * time.Hour).Seconds(), (2 * time.Hour).Seconds(), (4 * time.Hour).Seconds(),
	(8 * time.Hour).Seconds(), (12 * time.Hour).Seconds(), (18 * time.Hour).Seconds(),
	(24 * time.Hour).Seconds(), (36 * time.Hour).Seconds(), (48 * time.Hour).Seconds(),
	(72 * time.Hour).Seconds(), (5 * 24 * time.Hour).Seconds(), (7 * 24 * time.Hour).Seconds(),
	(10 * 24 * time.Hour).Seconds(), (14 * 24 * time.Hour).Seconds(), (21 * 24 * time.Hour).Seconds(),
	(30 * 24 * time.Hour).Seconds(),
}

// NewMetrics creates the metrics and registers them on reg (nil: created but
// not registered). complaint_open_escalations is read from PostgreSQL at
// scrape time through pool (nil pool: that gauge is left out).
func NewMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) *Metrics {
	f := promauto.With(reg)
	hist := func(name, help string) prometheus.Histogram {
		return f.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: slaBuckets})
	}
	m := &Metrics{
		received: f.NewCounter(prometheus.CounterOpts{
			Name: "complaints_received_total", Help: "Complaints received (R3).",
		}),
		clocks: f.NewCounterVec(prometheus.CounterOpts{
			Name: "complaint_clocks_total", Help: "Complaint clocks by outcome: met in time or breached (R3).",
		}, []string{"clock", "outcome"}),
		timeToContact: hist("complaint_time_to_contact_seconds", "Time from receipt to first contact with the customer (R3)."),
		timeToPlan:    hist("complaint_time_to_plan_seconds", "Time from receipt to the initial solution (R3)."),
		timeToResolve: hist("complaint_time_to_resolve_seconds", "Time from receipt to the first resolution (R3)."),
		warnings: f.NewCounterVec(prometheus.CounterOpts{
			Name: "complaint_warnings_total", Help: "Clock warnings sent to assignees (R3).",
		}, []string{"clock"}),
		escalations: f.NewCounterVec(prometheus.CounterOpts{
			Name: "complaint_escalations_total", Help: "Escalations of missed clocks (R3).",
		}, []string{"clock", "level"}),
		lateness: f.NewHistogram(prometheus.HistogramOpts{
			Name: "complaint_escalation_lateness_seconds",
			Help: "How long after a clock's deadline its level-1 escalation fired (R3: escalation at the deadline). " +
				"Clocks already past due when the complaint was recorded (back-dated entries) are left out.",
			Buckets: latenessBuckets,
		}),
		appealsOpened: f.NewCounter(prometheus.CounterOpts{
			Name: "appeals_opened_total", Help: "Appeals opened against monthly results (R6).",
		}),
		appealsDecided: f.NewCounterVec(prometheus.CounterOpts{
			Name: "appeals_decided_total", Help: "Appeals ended, by outcome: upheld, rejected or withdrawn (R6).",
		}, []string{"outcome"}),
		appealDecisionTime: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "appeal_decision_working_seconds",
			Help:    "Time from an appeal's opening to its decision (upheld or rejected) that fell on working days, in seconds; a working day counts 24 h (R2, R6).",
			Buckets: appealBuckets,
		}),
		appealDeadlinesMissed: f.NewCounter(prometheus.CounterOpts{
			Name: "appeal_deadlines_missed_total", Help: "Stage-2 appeal deadlines missed and escalated to the head of HR (R6).",
		}),
		rewards: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rewards_total",
			Help: "Rewards by kind (R5.1) and outcome: nominated, then each status entered (returned, approved, rejected, withdrawn, paid; R5.3).",
		}, []string{"kind", "outcome"}),
		rewardStepSeconds: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "reward_step_duration_seconds",
			Help:    "Time a reward spent in an approval step (manager, hr, committee, payout) before it moved on or ended (R5.3).",
			Buckets: slaBuckets,
		}, []string{"step"}),
		rewardPaidFen: f.NewCounter(prometheus.CounterOpts{
			Name: "reward_paid_amount_fen_total", Help: "Cash rewards paid out, in fen (R5.3 step 4; each payout counted once).",
		}),
		refusedWrites: f.NewCounterVec(prometheus.CounterOpts{
			Name: "read_model_refused_total",
			Help: "Read-model writes PostgreSQL refused as bad data, by record (complaint, reward, appeal, cycle) and outcome (written_scrubbed: written with NUL and invalid UTF-8 replaced; dropped). Any increase needs a look: the log line names the workflow.",
		}, []string{"record", "outcome"}),
	}
	if pool != nil {
		m.openEscalations = &openEscalationsCollector{q: db.New(pool), desc: prometheus.NewDesc(
			"complaint_open_escalations", "Escalations not yet acknowledged (R3), read from PostgreSQL.", nil, nil),
			oldest: prometheus.NewDesc("complaint_oldest_open_escalation_age_seconds",
				"Age of the oldest escalation not yet acknowledged (R3), 0 when none is open, read from PostgreSQL.", nil, nil)}
		m.overdueSteps = &overdueRewardStepsCollector{q: db.New(pool), desc: prometheus.NewDesc(
			"reward_steps_overdue", "Open reward approval steps past their deadline (R5.3), read from PostgreSQL.", nil, nil)}
		waiting := newWaitingWorkCollector(db.New(pool))
		if reg != nil {
			reg.MustRegister(m.openEscalations, m.overdueSteps, waiting)
		}
	}
	return m
}

// waitingWorkCollector reads, at scrape time, what waits for people: the
// running clocks by clock and state (R3: the board's counts, from the view
// open_clocks), open appeals by stage and how many are past their deadline
// (R6), open rewards by the step they wait at (R5.3). Every process reports
// the same numbers; dashboards take max() across them.
type waitingWorkCollector struct {
	q                                    *db.Queries
	clocks, appeals, appealsLate, reward *prometheus.Desc
}

func newWaitingWorkCollector(q *db.Queries) *waitingWorkCollector {
	return &waitingWorkCollector{q: q,
		clocks: prometheus.NewDesc("complaint_open_clocks",
			"Running clocks of open complaints by clock and state (running, warned, breached, paused), read from PostgreSQL.", []string{"clock", "state"}, nil),
		appeals: prometheus.NewDesc("appeals_open",
			"Open appeals by stage (1: the manager explains; 2: HR decides), read from PostgreSQL.", []string{"stage"}, nil),
		appealsLate: prometheus.NewDesc("appeals_open_overdue",
			"Open appeals past their stage's deadline, read from PostgreSQL.", nil, nil),
		reward: prometheus.NewDesc("rewards_waiting",
			"Open rewards by the approval step they wait at (manager, hr, committee, payout), read from PostgreSQL.", []string{"step"}, nil),
	}
}

func (c *waitingWorkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.clocks
	ch <- c.appeals
	ch <- c.appealsLate
	ch <- c.reward
}

// Collect leaves out what PostgreSQL does not answer within 2 s.
func (c *waitingWorkCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Every label value is reported, 0 when nothing is there, so a graph
	// shows zero rather than a gap.
	if rows, err := c.q.CountOpenClocks(ctx); err != nil {
		slog.Warn("metrics: count open clocks", "err", err)
	} else {
		n := map[[2]string]int64{}
		for _, r := range rows {
			n[[2]string{r.Clock, r.State}] = r.N
		}
		for _, clock := range []workflows.ClockName{workflows.ClockContact, workflows.ClockPlan, workflows.ClockResolution} {
			for _, state := range []string{"running", "warned", "breached", "paused"} {
				ch <- prometheus.MustNewConstMetric(c.clocks, prometheus.GaugeValue, float64(n[[2]string{string(clock), state}]), string(clock), state)
			}
		}
	}
	if rows, err := c.q.CountOpenAppeals(ctx); err != nil {
		slog.Warn("metrics: count open appeals", "err", err)
	} else {
		n, late := map[int32]int64{}, int64(0)
		for _, r := range rows {
			n[r.Stage], late = r.N, late+r.Overdue
		}
		for _, stage := range []int32{1, 2} {
			ch <- prometheus.MustNewConstMetric(c.appeals, prometheus.GaugeValue, float64(n[stage]), strconv.Itoa(int(stage)))
		}
		ch <- prometheus.MustNewConstMetric(c.appealsLate, prometheus.GaugeValue, float64(late))
	}
	if rows, err := c.q.CountWaitingRewards(ctx); err != nil {
		slog.Warn("metrics: count waiting rewards", "err", err)
	} else {
		n := map[string]int64{}
		for _, r := range rows {
			n[r.Step] = r.N
		}
		for _, step := range []workflows.Step{workflows.StepManager, workflows.StepHR, workflows.StepCommittee, workflows.StepPayout} {
			ch <- prometheus.MustNewConstMetric(c.reward, prometheus.GaugeValue, float64(n[string(step)]), string(step))
		}
	}
}

// overdueRewardStepsCollector counts overdue reward steps at scrape time,
// like openEscalationsCollector.
type overdueRewardStepsCollector struct {
	q    *db.Queries
	desc *prometheus.Desc
}

func (c *overdueRewardStepsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *overdueRewardStepsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.q.CountOverdueRewardSteps(ctx)
	if err != nil {
		slog.Warn("metrics: count overdue reward steps", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}

// observeReward records the R5 metrics of what a RecordReward wrote that
// was new. Labels are kinds, outcomes and steps only (R7).
func (m *Metrics) observeReward(st workflows.RewardState, c rewardChange) {
	if m == nil {
		return
	}
	kind := string(st.Kind)
	if c.nominated {
		m.rewards.WithLabelValues(kind, "nominated").Inc()
	}
	if c.entered && st.Status != workflows.RewardPending {
		m.rewards.WithLabelValues(kind, string(st.Status)).Inc()
	}
	if c.stepEnded != "" && c.stepTook >= 0 {
		m.rewardStepSeconds.WithLabelValues(string(c.stepEnded)).Observe(c.stepTook.Seconds())
	}
	if c.paid && c.paidFen > 0 {
		m.rewardPaidFen.Add(float64(c.paidFen))
	}
}

// openEscalationsCollector counts open escalations and the age of the
// oldest at scrape time, so every worker and server reports the same
// numbers whichever process fired them. The age is what an operator pages
// on: a count that never drops to zero on a busy day says little, one
// escalation nobody has looked at for hours says a lot.
type openEscalationsCollector struct {
	q            *db.Queries
	desc, oldest *prometheus.Desc
}

func (c *openEscalationsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.oldest }

// Collect leaves the gauge out when PostgreSQL does not answer within 2 s:
// a missing sample is honest, and the rest of the scrape still succeeds.
func (c *openEscalationsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.q.CountOpenEscalations(ctx)
	if err != nil {
		slog.Warn("metrics: count open escalations", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
	// The queue's own query, oldest first, one row (index escalations_open).
	rows, err := c.q.ListEscalations(ctx, db.ListEscalationsParams{OpenOnly: true, RowLimit: 1})
	if err != nil {
		slog.Warn("metrics: oldest open escalation", "err", err)
		return
	}
	age := 0.0
	if len(rows) == 1 {
		age = max(0, time.Since(rows[0].EscalatedAt).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}

// metEvents maps the event that meets a clock to the clock.
var metEvents = map[string]workflows.ClockName{
	workflows.EventContacted: workflows.ClockContact,
	workflows.EventPlanned:   workflows.ClockPlan,
	workflows.EventResolved:  workflows.ClockResolution,
}

// observe records the metrics of events that were new in this sync. all is
// every event known (the state's trail and this sync's), so a clock's
// outcome is counted once: breached at its "breached" event, met at the
// first event meeting it unless it was breached before; the times to
// contact, plan and resolve use the first such event only (a resolution
// after a reopen is not a new time to resolve).
func (m *Metrics) observe(receivedAt time.Time, fresh []db.InsertComplaintEventsRow, all map[int]workflows.Event) {
	if m == nil {
		return
	}
	for _, e := range fresh {
		data := all[int(e.Seq)].Data
		switch e.Type {
		case workflows.EventReceived:
			m.received.Inc()
		case workflows.EventWarning:
			m.warnings.WithLabelValues(clockOf(data)).Inc()
		case workflows.EventBreached:
			m.clocks.WithLabelValues(clockOf(data), "breached").Inc()
			// A clock is breached by its level-1 escalation, at the first
			// workflow task after the deadline: the gap is the service's
			// own delay (timer, task queue, worker). A complaint recorded
			// after the deadline breaches in its very first sync, together
			// with its "received" event: that lateness is the recorder's,
			// not the service's, and is left out.
			if due, ok := timeOf(data["due_at"]); ok && !receivedIn(fresh) {
				m.lateness.Observe(max(0, e.At.Sub(due).Seconds()))
			}
		case workflows.EventEscalated:
			m.escalations.WithLabelValues(clockOf(data), levelOf(data)).Inc()
		case workflows.EventContacted, workflows.EventPlanned, workflows.EventResolved:
			if earlierEvent(all, int(e.Seq), func(o workflows.Event) bool { return o.Type == e.Type }) {
				continue
			}
			clock := metEvents[e.Type]
			secs := e.At.Sub(receivedAt).Seconds()
			switch clock {
			case workflows.ClockContact:
				m.timeToContact.Observe(secs)
			case workflows.ClockPlan:
				m.timeToPlan.Observe(secs)
			default:
				m.timeToResolve.Observe(secs)
			}
			if !earlierEvent(all, int(e.Seq), func(o workflows.Event) bool {
				return o.Type == workflows.EventBreached && clockOf(o.Data) == string(clock)
			}) {
				m.clocks.WithLabelValues(string(clock), "met").Inc()
			}
		}
	}
}

// receivedIn reports a "received" event among this sync's new events: the
// complaint's first sync.
func receivedIn(fresh []db.InsertComplaintEventsRow) bool {
	for _, e := range fresh {
		if e.Type == workflows.EventReceived {
			return true
		}
	}
	return false
}

// timeOf reads an event's time datum: a time.Time in the workflow, an
// RFC 3339 string once it has been through JSON (Temporal's payloads).
func timeOf(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, !v.IsZero()
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return time.Time{}, false
}

// earlierEvent reports an event before seq matching match.
func earlierEvent(all map[int]workflows.Event, seq int, match func(workflows.Event) bool) bool {
	for s, o := range all {
		if s < seq && match(o) {
			return true
		}
	}
	return false
}

// clockOf reads an event's "clock" datum, restricted to the known clock
// names so a label can never carry anything else.
func clockOf(data map[string]any) string {
	s, _ := data["clock"].(string)
	for _, c := range workflows.Clocks {
		if s == string(c) {
			return s
		}
	}
	return "unknown"
}

// levelOf reads an event's "level" datum: an int in the workflow, a
// float64 once it has been through JSON (Temporal's payloads). Only 1 and 2
// exist (R3).
func levelOf(data map[string]any) string {
	var n float64
	switch v := data["level"].(type) {
	case int:
		n = float64(v)
	case int32:
		n = float64(v)
	case int64:
		n = float64(v)
	case float64:
		n = v
	}
	if n == 1 || n == 2 {
		return strconv.Itoa(int(n))
	}
	return "unknown"
}

// refused counts a read-model write PostgreSQL refused (refused.go).
func (m *Metrics) refused(record, outcome string) {
	if m == nil {
		return
	}
	m.refusedWrites.WithLabelValues(record, outcome).Inc()
}
