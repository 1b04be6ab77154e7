package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/workflows"
)

// The pages of managers, HR, the committee and agents (R4, R5, R6): each
// reads the API's lists as the signed-in person, so each sees what R7
// lets them see.

// deductionItem is an item of GET /api/v1/deductions.
type deductionItem struct {
	ID                int64     `json:"id"`
	EmployeeID        string    `json:"employee_id"`
	ReasonCode        string    `json:"reason_code"`
	Points            int       `json:"points"`
	Status            string    `json:"status"`
	OccurredAt        time.Time `json:"occurred_at"`
	Note              string    `json:"note"`
	SourceComplaintNo *string   `json:"source_complaint_no"`
}

// appealItem is an item of GET /api/v1/appeals.
type appealItem struct {
	ID          string    `json:"id"`
	AppellantID string    `json:"appellant_id"`
	Month       string    `json:"month"`
	Stage       int       `json:"stage"`
	Status      string    `json:"status"`
	DueAt       time.Time `json:"due_at"`
}

// rewardItem is an item of GET /api/v1/rewards.
type rewardItem struct {
	NominationNo string     `json:"nomination_no"`
	NomineeID    string     `json:"nominee_id"`
	NominatorID  string     `json:"nominator_id"`
	Kind         string     `json:"kind"`
	AmountFen    int64      `json:"amount_fen"`
	Reason       string     `json:"reason"`
	Status       string     `json:"status"`
	Step         *string    `json:"step"`
	Awaiting     []string   `json:"awaiting"`
	DueAt        *time.Time `json:"due_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// assessmentItem is an item of GET /api/v1/assessments.
type assessmentItem struct {
	ID         string       `json:"id"`
	EmployeeID string       `json:"employee_id"`
	Month      string       `json:"month"`
	CSAT       *json.Number `json:"csat"`
	FTFR       *json.Number `json:"ftfr"`
	Timeliness *json.Number `json:"timeliness"`
	Deductions int          `json:"deductions"`
	Score      *json.Number `json:"score"`
	Band       string       `json:"band"`
	Status     string       `json:"status"`
	Corrected  *struct {
		OriginalScore *json.Number `json:"original_score"`
		OriginalBand  *string      `json:"original_band"`
		By            string       `json:"by"`
		At            time.Time    `json:"at"`
		Reason        string       `json:"reason"`
	} `json:"corrected"`
}

var reasonLabels = map[string]string{
	"rude_to_customer": "rude to a customer", "untimely_service": "untimely service (missed clock)",
	"argument_with_customer": "argument with a customer", "training_unprepared": "unprepared for training",
	"rude_to_trainee": "rude to a trainee",
}

var stepLabels = map[string]string{"manager": "Manager", "hr": "HR", "committee": "Satisfaction committee", "payout": "Payout"}

type deductionRow struct {
	ID, Employee, Reason, OccurredLocal, ComplaintNo, Note string
	Points                                                 int
	Actions                                                []action
}

type appealRow struct {
	ID, Appellant, Month, DueISO, DueLocal, Left, State string
	Actions                                             []action
}

type rewardRow struct {
	No, Nominee, Kind, Amount, Reason, Step, DueLocal string
	Actions                                           []action
}

type stepGroup struct {
	Label   string
	Rewards []rewardRow
}

type resultRow struct {
	ID, Employee, Month, Score, Band, CSI, FTFR, Timeliness, Status, Original, Correction string
	Deductions                                                                            int
	Actions                                                                               []action
}

type monthResults struct {
	Month, StatusLabel, WindowLocal string
	Started                         bool
	Rows                            []resultRow
	Start                           []action // start this month's assessment (HR, R4)
}

// yuan shows an amount of fen as CNY: ¥1,000.00.
func yuan(fen int64) string {
	whole := fmt.Sprint(fen / 100)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("¥%s.%02d", whole, fen%100)
}

func num(n *json.Number) string {
	if n == nil {
		return "—"
	}
	return n.String()
}

func (c *Console) deductionRows(r *http.Request, items []deductionItem, d directory) []deductionRow {
	var rows []deductionRow
	for _, x := range items {
		id := fmt.Sprint(x.ID)
		row := deductionRow{ID: id, Employee: d.name(x.EmployeeID), Reason: cmp.Or(reasonLabels[x.ReasonCode], x.ReasonCode),
			OccurredLocal: c.when(x.OccurredAt), Points: x.Points, Note: x.Note}
		if x.SourceComplaintNo != nil {
			row.ComplaintNo = *x.SourceComplaintNo
		}
		note := field{Name: "note", Label: "Note", Kind: "textarea"}
		row.Actions = c.offer(r, row.Actions, action{Name: "confirm", Label: "Confirm", Done: "Deduction confirmed.", Fields: []field{note}},
			"deductions", id, "confirm")
		row.Actions = c.offer(r, row.Actions, action{Name: "cancel", Label: "Cancel", Done: "Deduction cancelled.", Fields: []field{note}},
			"deductions", id, "cancel")
		rows = append(rows, row)
	}
	return rows
}

func (c *Console) appealRows(r *http.Request, items []appealItem, d directory, now time.Time) []appealRow {
	var rows []appealRow
	for _, a := range items {
		row := appealRow{ID: a.ID, Appellant: d.name(a.AppellantID), Month: a.Month, DueISO: iso(a.DueAt),
			DueLocal: c.when(a.DueAt), Left: leftText(a.DueAt, now), State: "normal"}
		if !now.Before(a.DueAt) {
			row.State = "breached"
		}
		if a.Stage == 2 {
			row.Actions = c.offer(r, row.Actions, decisionAction(), "appeals", a.ID, "decision")
		}
		rows = append(rows, row)
	}
	return rows
}

// rewardGroups is the approvals inbox by step: the open rewards the person
// may act on now (the API lists exactly those, and their own nominations).
func (c *Console) rewardGroups(r *http.Request, d directory) ([]stepGroup, error) {
	var rewards list[rewardItem]
	if err := c.get(r.Context(), "/api/v1/rewards?limit=200", &rewards); err != nil {
		return nil, err
	}
	p := me(r)
	groups := map[string]*stepGroup{}
	var order []*stepGroup
	for _, s := range []string{"manager", "hr", "committee", "payout"} {
		g := &stepGroup{Label: stepLabels[s]}
		groups[s] = g
		order = append(order, g)
	}
	for _, x := range rewards.Items {
		if x.Step == nil {
			continue
		}
		row := rewardRow{No: x.NominationNo, Nominee: d.name(x.NomineeID), Kind: x.Kind, Reason: x.Reason,
			Step: stepLabels[*x.Step], DueLocal: c.whenP(x.DueAt)}
		if x.Kind == string(workflows.KindCash) {
			row.Amount = yuan(x.AmountFen)
		}
		awaitsMe := false
		for _, id := range x.Awaiting {
			awaitsMe = awaitsMe || id == p.UserID
		}
		if !awaitsMe {
			continue
		}
		row.Actions = c.rewardActions(r, x.NominationNo, workflows.RewardKind(x.Kind), workflows.Step(*x.Step))
		if g := groups[*x.Step]; g != nil {
			g.Rewards = append(g.Rewards, row)
		}
	}
	var out []stepGroup
	for _, g := range order {
		if len(g.Rewards) > 0 {
			out = append(out, *g)
		}
	}
	return out, nil
}

// monthResultsOf is a month's cycle and results table (R4, R6: a
// correction beside its original).
func (c *Console) monthResultsOf(r *http.Request, month string, d directory, cycle bool) (monthResults, error) {
	m := monthResults{Month: month}
	if cycle {
		var st workflows.CycleState
		err := c.get(r.Context(), apiPath("assessment-cycles", month), &st)
		var p *problem
		switch {
		case err == nil:
			m.Started, m.StatusLabel, m.WindowLocal = true, string(st.Status), c.whenP(st.WindowEndsAt)
		case asProblem(err, &p) && p.Status == http.StatusNotFound:
			return m, nil
		default:
			return m, err
		}
	}
	var results list[assessmentItem]
	if err := c.get(r.Context(), "/api/v1/assessments?"+url.Values{"month": {month}, "limit": {"500"}}.Encode(), &results); err != nil {
		return m, err
	}
	m.Rows = c.resultRows(r, results.Items, d, false)
	return m, nil
}

func (c *Console) resultRows(r *http.Request, items []assessmentItem, d directory, appealable bool) []resultRow {
	var rows []resultRow
	for _, a := range items {
		row := resultRow{ID: a.ID, Employee: d.name(a.EmployeeID), Month: a.Month, Score: num(a.Score), Band: a.Band,
			CSI: num(a.CSAT), FTFR: num(a.FTFR), Timeliness: num(a.Timeliness), Deductions: a.Deductions, Status: a.Status}
		if a.Corrected != nil {
			row.Original = num(a.Corrected.OriginalScore)
			row.Correction = fmt.Sprintf("by %s, %s: %s", d.name(a.Corrected.By), c.when(a.Corrected.At), a.Corrected.Reason)
		}
		if appealable && a.Status == "published" {
			row.Actions = c.offer(r, row.Actions, action{Name: "appeal", Label: "Appeal", Done: "Appeal opened.",
				Fields: []field{text("reason", "Why the result is wrong")}}, "assessments", a.ID, "appeals")
		}
		rows = append(rows, row)
	}
	return rows
}

// lastMonth is the month an assessment would be about now (R4.0).
func (c *Console) lastMonth(now time.Time) string {
	y, m, _ := now.In(c.loc).Date()
	return time.Date(y, m-1, 1, 0, 0, 0, 0, c.loc).Format("2006-01")
}

// monthParam is ?month= when it is a month, else the last month.
func (c *Console) monthParam(r *http.Request) string {
	if v := r.URL.Query().Get("month"); v != "" {
		if _, err := time.Parse("2006-01", v); err == nil {
			return v
		}
	}
	return c.lastMonth(time.Now())
}

type teamPage struct {
	Clocks     []clockRow
	More       bool
	Zone       string
	Deductions []deductionRow
	Appeals    []appealRow
	Steps      []stepGroup
	Month      monthResults
}

// teamData is the manager's view (R1, R3, R4.4, R5, R6).
func (c *Console) teamData(r *http.Request, d directory) (any, error) {
	now, ctx := time.Now(), r.Context()
	var page teamPage
	var clocks list[openClock]
	if err := c.get(ctx, "/api/v1/clocks?limit=100", &clocks); err != nil {
		return nil, err
	}
	page.Clocks, page.More, page.Zone = c.clockRows(clocks.Items, d, now), clocks.Next != nil, c.zone()
	var deds list[deductionItem]
	if err := c.get(ctx, "/api/v1/deductions?status=proposed&limit=200", &deds); err != nil {
		return nil, err
	}
	page.Deductions = c.deductionRows(r, deds.Items, d)
	var appeals list[appealItem]
	if err := c.get(ctx, "/api/v1/appeals?stage=1&status=open&limit=200", &appeals); err != nil {
		return nil, err
	}
	page.Appeals = c.appealRows(r, appeals.Items, d, now)
	var err error
	if page.Steps, err = c.rewardGroups(r, d); err != nil {
		return nil, err
	}
	page.Month, err = c.monthResultsOf(r, c.monthParam(r), d, false)
	return page, err
}

type approvalsPage struct{ Steps []stepGroup }

func (c *Console) approvalsData(r *http.Request, d directory) (any, error) {
	steps, err := c.rewardGroups(r, d)
	return approvalsPage{Steps: steps}, err
}

type hrPage struct {
	Steps   []stepGroup
	Appeals []appealRow
	Month   monthResults
	Months  []option
}

// hrData is HR's desk (R4, R5, R6).
func (c *Console) hrData(r *http.Request, d directory) (any, error) {
	var page hrPage
	var err error
	if page.Steps, err = c.rewardGroups(r, d); err != nil {
		return nil, err
	}
	var appeals list[appealItem]
	if err := c.get(r.Context(), "/api/v1/appeals?stage=2&status=open&limit=200", &appeals); err != nil {
		return nil, err
	}
	page.Appeals = c.appealRows(r, appeals.Items, d, time.Now())
	month := c.monthParam(r)
	if page.Month, err = c.monthResultsOf(r, month, d, true); err != nil {
		return nil, err
	}
	if !page.Month.Started {
		page.Month.Start = c.offer(r, nil, action{Name: "start", Label: "Start the assessment of " + month, Done: "Assessment started.",
			Fields: []field{{Name: "month", Kind: "hidden", Value: month}}}, "assessment-cycles")
	}
	y, m, _ := time.Now().In(c.loc).Date()
	for i := 1; i <= 12; i++ {
		v := time.Date(y, m-time.Month(i), 1, 0, 0, 0, 0, c.loc).Format("2006-01")
		page.Months = append(page.Months, option{Value: v, Label: v, Selected: v == month})
	}
	return page, nil
}

type mePage struct {
	Clocks  []clockRow
	More    bool
	Zone    string
	Results []resultRow
	Rewards []rewardRow
}

// meData is the agent's own work (R3, R4, R5, R6).
func (c *Console) meData(r *http.Request, d directory) (any, error) {
	p, ctx := me(r), r.Context()
	var page mePage
	var clocks list[openClock]
	if err := c.get(ctx, "/api/v1/clocks?"+url.Values{"assignee_id": {p.UserID}, "limit": {"100"}}.Encode(), &clocks); err != nil {
		return nil, err
	}
	page.Clocks, page.More, page.Zone = c.clockRows(clocks.Items, d, time.Now()), clocks.Next != nil, c.zone()
	var results list[assessmentItem]
	if err := c.get(ctx, "/api/v1/assessments?"+url.Values{"employee_id": {p.UserID}, "limit": {"24"}}.Encode(), &results); err != nil {
		return nil, err
	}
	page.Results = c.resultRows(r, results.Items, d, true)
	var rewards list[rewardItem]
	if err := c.get(ctx, "/api/v1/rewards?mine=true&limit=50", &rewards); err != nil {
		return nil, err
	}
	for _, x := range rewards.Items {
		page.Rewards = append(page.Rewards, rewardRow{No: x.NominationNo, Kind: x.Kind, Reason: x.Reason,
			Step: cmp.Or(stepLabels[deref(x.Step)], x.Status)})
	}
	return page, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// detailPage is an appeal or a reward: its state, its trail, its actions.
type detailPage struct {
	Heading string
	Facts   []fact
	Events  []eventRow
	Actions []action
}

type fact struct{ Label, Value, DueISO, State string }

var appealEventLabels = map[string]string{
	"opened": "Appeal opened", "explained": "Explanation given", "accepted": "Explanation accepted", "escalated": "Moved to stage 2",
	"reminded": "Reminder sent", "decided": "Decided", "withdrawn": "Withdrawn", "overdue": "Deadline missed",
}

func (c *Console) appealData(r *http.Request, d directory) (any, error) {
	id := chi.URLParam(r, "id")
	var st workflows.AppealState
	if err := c.get(r.Context(), apiPath("appeals", id), &st); err != nil {
		return nil, err
	}
	page := detailPage{Heading: "Appeal of " + d.name(st.AppellantID) + " against " + st.AssessmentID}
	due := fact{Label: "Deadline", Value: c.when(st.DueAt)}
	if st.Status == workflows.AppealOpen {
		due.DueISO, due.State = iso(st.DueAt), "normal"
	}
	page.Facts = []fact{{Label: "Stage", Value: fmt.Sprint(st.Stage)}, {Label: "Status", Value: string(st.Status)}, due,
		{Label: "Original score", Value: fmt.Sprint(st.OriginalScore)}}
	if st.CorrectedScore != nil {
		page.Facts = append(page.Facts, fact{Label: "Corrected score", Value: fmt.Sprint(*st.CorrectedScore)})
	}
	page.Events = c.eventRows(st.Events, d, appealEventLabels)
	if st.Status == workflows.AppealOpen {
		page.Actions = c.offer(r, page.Actions, action{Name: "accept-explanation", Label: "Accept the explanation", Done: "Appeal ended."},
			"appeals", st.ID, "accept-explanation")
		page.Actions = c.offer(r, page.Actions, action{Name: "escalate", Label: "Move to stage 2 (HR)", Done: "Moved to stage 2."},
			"appeals", st.ID, "escalate")
		if st.Stage == 2 {
			page.Actions = c.offer(r, page.Actions, decisionAction(), "appeals", st.ID, "decision")
		}
	}
	return page, nil
}

func (c *Console) rewardData(r *http.Request, d directory) (any, error) {
	no := chi.URLParam(r, "no")
	var st workflows.RewardState
	if err := c.get(r.Context(), apiPath("rewards", no), &st); err != nil {
		return nil, err
	}
	page := detailPage{Heading: "Reward " + st.NominationNo + " for " + d.name(st.NomineeID)}
	page.Facts = []fact{{Label: "Kind", Value: string(st.Kind)}, {Label: "Status", Value: string(st.Status)},
		{Label: "Nominated by", Value: d.name(st.NominatorID)}, {Label: "Reason", Value: st.Reason}}
	if st.Step != nil {
		page.Facts = append(page.Facts, fact{Label: "Step", Value: stepLabels[string(*st.Step)]},
			fact{Label: "Awaiting", Value: d.names(st.Awaiting)})
		if st.DueAt != nil {
			page.Facts = append(page.Facts, fact{Label: "Step due", Value: c.when(*st.DueAt), DueISO: iso(*st.DueAt), State: "normal"})
		}
	}
	page.Events = c.eventRows(st.Events, d, nil)
	if st.Step != nil {
		page.Actions = c.rewardActions(r, st.NominationNo, st.Kind, *st.Step)
		if *st.Step != workflows.StepPayout {
			page.Actions = c.offer(r, page.Actions, action{Name: "withdraw", Label: "Withdraw", Done: "Withdrawn.",
				Fields: []field{text("reason", "Reason")}}, "rewards", st.NominationNo, "withdraw")
		}
	}
	return page, nil
}

// decisionAction is HR's decision on a stage-2 appeal (R6).
func decisionAction() action {
	return action{Name: "decision", Label: "Decide", Done: "Decided.", Fields: []field{
		{Name: "outcome", Label: "Outcome", Kind: "select", Required: true,
			Options: []option{{Value: "upheld", Label: "Upheld (correct the score)"}, {Value: "rejected", Label: "Rejected"}}},
		{Name: "corrected_score", Label: "Corrected score (if upheld)", Kind: "number"},
		text("reason", "Reason")}}
}

// rewardActions are the decisions on a reward's current step (R5.3): approve,
// return, reject; or, at the payout step, the payout with its reference.
func (c *Console) rewardActions(r *http.Request, no string, kind workflows.RewardKind, step workflows.Step) []action {
	var out []action
	if step == workflows.StepPayout {
		ref := field{Name: "issued_ref", Label: "Issue reference", Kind: "text", Required: true}
		if kind == workflows.KindCash {
			ref = field{Name: "payment_ref", Label: "Payment reference", Kind: "text", Required: true}
		}
		return c.offer(r, out, action{Name: "payout", Label: "Record payout", Done: "Payout recorded.", Fields: []field{ref}},
			"rewards", no, "payout")
	}
	comment := field{Name: "comment", Label: "Comment (required to return or reject)", Kind: "textarea"}
	for _, a := range []action{
		{Name: "approve", Label: "Approve", Done: "Approved."},
		{Name: "return", Label: "Return", Done: "Returned for changes."},
		{Name: "reject", Label: "Reject", Done: "Rejected."},
	} {
		a.Fields = []field{comment}
		out = c.offer(r, out, a, "rewards", no, a.Name)
	}
	return out
}
