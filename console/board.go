package console

import (
	"cmp"
	"net/http"
	"net/url"
	"time"

	"github.com/acme/aftersales/workflows"
)

// openClock is an item of GET /api/v1/clocks.
type openClock struct {
	ComplaintNo      string     `json:"complaint_no"`
	Clock            string     `json:"clock"`
	State            string     `json:"state"`
	DueAt            time.Time  `json:"due_at"`
	WarnAt           *time.Time `json:"warn_at"`
	Level2DueAt      *time.Time `json:"level2_due_at"`
	AssigneeID       string     `json:"assignee_id"`
	TeamID           string     `json:"team_id"`
	RemainingSeconds int64      `json:"remaining_seconds"`
}

// escalation is an item of GET /api/v1/escalations.
type escalation struct {
	ID          string    `json:"id"`
	ComplaintNo string    `json:"complaint_no"`
	Clock       string    `json:"clock"`
	Level       int       `json:"level"`
	EscalatedAt time.Time `json:"escalated_at"`
	EscalatedTo []string  `json:"escalated_to"`
	AssigneeID  string    `json:"assignee_id"`
	TeamID      string    `json:"team_id"`
}

var clockLabels = map[string]string{"contact": "Contact (24 h)", "plan": "Plan (48 h)", "resolution": "Resolution (7 working days)"}

// clockStates: the API's state to the console's (CSS and the ticker).
var clockStates = map[string]struct{ css, label string }{
	workflows.ClockRunning: {"normal", "running"}, workflows.ClockWarned: {"warned", "warned (75 %)"},
	workflows.ClockBreached: {"breached", "breached"}, workflows.ClockPaused: {"paused", "paused"}, workflows.ClockMet: {"met", "met"},
}

// clockRow is a row of the clock tables (board, team, agent).
type clockRow struct {
	ComplaintNo, ClockLabel, State, StateLabel string
	DueISO, DueLocal, WarnISO, Left, Level2    string
	Assignee, Team                             string
}

func (c *Console) clockRows(items []openClock, d directory, now time.Time) []clockRow {
	rows := make([]clockRow, 0, len(items))
	for _, k := range items {
		st := clockStates[k.State]
		row := clockRow{
			ComplaintNo: k.ComplaintNo, ClockLabel: clockLabels[k.Clock], State: st.css, StateLabel: st.label,
			DueISO: iso(k.DueAt), DueLocal: c.when(k.DueAt), WarnISO: isoP(k.WarnAt), Left: leftText(k.DueAt, now),
			Level2: cmp.Or(c.whenP(k.Level2DueAt), "—"), Assignee: d.name(k.AssigneeID), Team: d.teamName(k.TeamID),
		}
		if k.State == "paused" {
			row.Left = "paused"
		}
		rows = append(rows, row)
	}
	return rows
}

// boardPage is the officers' board (R3).
type boardPage struct {
	Teams, Assignees, ClockNames, Windows []option
	Clocks                                []clockRow
	More                                  bool
	Zone                                  string
	Escalations                           []escalationRow
	Agents                                []option
}

type escalationRow struct {
	ID, ComplaintNo, Clock, ClockLabel, AtISO, AtLocal, To string
	Level                                                  int
	Actions                                                []action
}

// boardLimit bounds the clocks shown at once: the soonest due are the ones
// to watch, and a page of them renders fast over any number open (issue 10:
// under 300 ms over 10,000, see BenchmarkBoard).
const boardLimit = 100

// boardData: every open clock, soonest due first, filtered; and the
// escalation queue, oldest first, with the actions the person may take.
func (c *Console) boardData(r *http.Request, d directory) (any, error) {
	q, p, now := r.URL.Query(), me(r), time.Now()
	api := url.Values{"limit": {"100"}}
	for _, f := range []string{"team_id", "assignee_id", "clock"} {
		if v := q.Get(f); v != "" {
			api.Set(f, v)
		}
	}
	if before, ok := c.dueWithin(q.Get("within"), now); ok {
		api.Set("due_before", before.Format(time.RFC3339))
	}
	var clocks list[openClock]
	if err := c.get(r.Context(), "/api/v1/clocks?"+api.Encode(), &clocks); err != nil {
		return nil, err
	}
	var escs list[escalation]
	if err := c.get(r.Context(), "/api/v1/escalations?limit=100", &escs); err != nil {
		return nil, err
	}
	page := boardPage{
		Teams: d.teamOptions(p, q.Get("team_id")), Assignees: d.agents(scope(p), q.Get("assignee_id")),
		Clocks: c.clockRows(clocks.Items, d, now), More: clocks.Next != nil, Zone: c.zone(),
		Agents: d.agents(scope(p), ""),
	}
	for _, k := range []string{"contact", "plan", "resolution"} {
		page.ClockNames = append(page.ClockNames, option{Value: k, Label: clockLabels[k], Selected: q.Get("clock") == k})
	}
	for _, w := range []struct{ v, l string }{{"1h", "within 1 hour"}, {"4h", "within 4 hours"}, {"today", "today"}} {
		page.Windows = append(page.Windows, option{Value: w.v, Label: w.l, Selected: q.Get("within") == w.v})
	}
	for _, e := range escs.Items {
		row := escalationRow{
			ID: e.ID, ComplaintNo: e.ComplaintNo, Clock: e.Clock, ClockLabel: clockLabels[e.Clock], Level: e.Level,
			AtISO: iso(e.EscalatedAt), AtLocal: c.when(e.EscalatedAt), To: d.names(e.EscalatedTo),
		}
		row.Actions = c.offer(r, row.Actions, action{Name: "ack", Label: "Acknowledge", Done: "Acknowledged.",
			Fields: []field{text("note", "Note")}}, "escalations", e.ID, "ack")
		row.Actions = c.offer(r, row.Actions, action{Name: "reassign", Label: "Reassign", Done: "Reassigned.", Fields: []field{
			{Name: "assignee_id", Label: "New assignee", Kind: "select", Required: true, Options: page.Agents},
			text("reason", "Reason")}}, "complaints", e.ComplaintNo, "reassign")
		row.Actions = c.offer(r, row.Actions, action{Name: "extend", Label: "Extend", Done: "Deadline extended.", Fields: []field{
			{Name: "clock", Kind: "hidden", Value: e.Clock},
			{Name: "due_at", Label: "New due", Kind: "datetime-local", Required: true, Hint: page.Zone},
			text("reason", "Reason")}}, "complaints", e.ComplaintNo, "extend")
		page.Escalations = append(page.Escalations, row)
	}
	return page, nil
}

// dueWithin is the board's "due within" filter as an instant: 1 h, 4 h, or
// the end of today in the calendar's zone.
func (c *Console) dueWithin(v string, now time.Time) (time.Time, bool) {
	switch v {
	case "1h":
		return now.Add(time.Hour), true
	case "4h":
		return now.Add(4 * time.Hour), true
	case "today":
		y, m, d := now.In(c.loc).Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, c.loc), true
	}
	return time.Time{}, false
}
