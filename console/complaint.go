package console

import (
	"cmp"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/acme/aftersales/workflows"
)

// complaintPage is one complaint (R3, R7).
type complaintPage struct {
	No, StatusLabel, ReceivedISO, ReceivedLocal, Assignee, Team string
	Clocks                                                      []complaintClock
	Escalations                                                 []complaintEscalation
	Events                                                      []eventRow
	Actions                                                     []action
	// PolicyVersion is the complaint policy it runs by (R2: kept).
	PolicyVersion int
}

type complaintClock struct {
	ClockLabel, State, StateLabel, DueISO, DueLocal, WarnISO, Left, Level2, MetISO, MetLocal string
}

type complaintEscalation struct {
	AtISO, AtLocal, ClockLabel, To, AckBy, AckLocal string
	Level                                           int
}

// eventRow is a line of an audit trail (R7): who, when, why.
type eventRow struct {
	AtISO, AtLocal, Label, Actor, Reason, Detail string
}

// action is a form of a command the person may send now.
type action struct {
	Name, Label, Path, Done string
	Fields                  []field
}

// field is one input of an action's form, named as in api.md.
type field struct {
	Name, Label, Kind string // Kind: textarea, select, rating, datetime-local, text, number, hidden
	Value             string
	Required          bool
	Options           []option
	Hint              string
}

var statusLabels = map[string]string{"open": "open", "resolved": "resolved", "reopened": "reopened", "closed": "closed"}

var eventLabels = map[string]string{
	"received": "Received", "contacted": "Customer contacted", "planned": "Plan recorded", "resolved": "Resolved",
	"paused": "Resolution clock paused", "resumed": "Resolution clock resumed", "reassigned": "Reassigned",
	"extended": "Deadline extended", "reopened": "Reopened", "surveyed": "Survey recorded", "recalculated": "Deadlines recalculated", "warning": "Warning sent",
	"breached": "Deadline missed", "escalated": "Escalated", "acknowledged": "Escalation acknowledged", "closed": "Closed",
}

func (c *Console) complaintData(r *http.Request, d directory) (any, error) {
	no := chi.URLParam(r, "no")
	var st workflows.ComplaintState
	if err := c.get(r.Context(), apiPath("complaints", no), &st); err != nil {
		return nil, err
	}
	now := time.Now()
	page := complaintPage{
		No: st.ComplaintNo, StatusLabel: statusLabels[string(st.Status)], ReceivedISO: iso(st.ReceivedAt),
		ReceivedLocal: c.when(st.ReceivedAt), Assignee: d.name(st.AssigneeID), Team: d.teamName(st.TeamID),
		PolicyVersion: st.PolicyVersion,
	}
	for _, k := range st.Clocks {
		row := complaintClock{ClockLabel: clockLabels[string(k.Name)], DueISO: iso(k.DueAt), DueLocal: c.when(k.DueAt),
			WarnISO: isoP(k.WarnAt), Level2: cmp.Or(c.whenP(k.Level2DueAt), "—"), MetISO: isoP(k.MetAt), MetLocal: c.whenP(k.MetAt)}
		shown := clockStates[k.State(now)]
		row.State, row.StateLabel, row.Left = shown.css, shown.label, leftText(k.DueAt, now)
		switch {
		case k.MetAt != nil:
			row.Left = "met"
			if k.Breached {
				row.StateLabel = "met late"
			}
		case k.Paused:
			row.Left = "paused"
		}
		page.Clocks = append(page.Clocks, row)
	}
	for _, e := range st.Escalations {
		row := complaintEscalation{AtISO: iso(e.EscalatedAt), AtLocal: c.when(e.EscalatedAt), ClockLabel: clockLabels[string(e.Clock)],
			Level: e.Level, To: d.names(e.EscalatedTo), AckLocal: c.whenP(e.AcknowledgedAt)}
		if e.AcknowledgedBy != nil {
			row.AckBy = d.name(*e.AcknowledgedBy)
		}
		page.Escalations = append(page.Escalations, row)
	}
	page.Events = c.eventRows(st.Events, d, eventLabels)
	page.Actions = c.complaintActions(r, st, d)
	return page, nil
}

// eventRows is an audit trail, newest last, as people read it.
func (c *Console) eventRows(events []workflows.Event, d directory, labels map[string]string) []eventRow {
	rows := make([]eventRow, 0, len(events))
	for _, e := range events {
		rows = append(rows, eventRow{AtISO: iso(e.At), AtLocal: c.when(e.At), Label: cmp.Or(labels[e.Type], e.Type),
			Actor: d.name(e.ActorID), Reason: e.Reason, Detail: c.eventDetail(e.Data, d)})
	}
	return rows
}

// eventDetail shows an event's data ("clock: contact, due at: ...") with
// names for people and local times for instants.
func (c *Console) eventDetail(data map[string]any, d directory) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := fmt.Sprint(data[k])
		if list, ok := data[k].([]any); ok { // people: escalated_to
			ids := make([]string, 0, len(list))
			for _, x := range list {
				ids = append(ids, fmt.Sprint(x))
			}
			v = d.names(ids)
		}
		if s, ok := data[k].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				v = c.when(t)
			} else if k == "assignee" || k == "from" || k == "to" || strings.HasSuffix(k, "_id") {
				v = d.name(s)
			}
		}
		parts = append(parts, strings.ReplaceAll(k, "_", " ")+": "+v)
	}
	return strings.Join(parts, ", ")
}

// complaintActions are the commands the person may send now: those the
// API's Access rules allow them (asked, not re-decided here), among those
// the state makes meaningful. The workflow's validator still has the last
// word, and its refusal is shown as it is.
func (c *Console) complaintActions(r *http.Request, st workflows.ComplaintState, d directory) []action {
	live := st.Status == workflows.StatusOpen || st.Status == workflows.StatusReopened
	unmet := map[workflows.ClockName]bool{}
	paused := false
	var openClocks []option
	for _, k := range st.Clocks {
		if k.MetAt == nil {
			unmet[k.Name] = true
			openClocks = append(openClocks, option{Value: string(k.Name), Label: clockLabels[string(k.Name)]})
		}
		paused = paused || (k.Name == workflows.ClockResolution && k.Paused)
	}
	candidates := []struct {
		show bool
		a    action
	}{
		{live && unmet[workflows.ClockContact], action{Name: "contact", Label: "Record contact", Done: "Contact recorded.",
			Fields: []field{text("note", "What was said"), {Name: "contacted_at", Label: "Contacted at (if earlier)", Kind: "datetime-local"}}}},
		{live && unmet[workflows.ClockPlan], action{Name: "plan", Label: "Record plan", Done: "Plan recorded.", Fields: []field{text("plan", "Plan")}}},
		{live, action{Name: "resolve", Label: "Resolve", Done: "Resolved.", Fields: []field{text("resolution", "Resolution")}}},
		{live && unmet[workflows.ClockResolution] && !paused, action{Name: "pause", Label: "Pause resolution clock", Done: "Paused.",
			Fields: []field{text("reason", "Reason (waiting on the customer or parts)")}}},
		{live && paused, action{Name: "resume", Label: "Resume resolution clock", Done: "Resumed."}},
		{st.Status == workflows.StatusResolved, action{Name: "reopen", Label: "Reopen", Done: "Reopened.", Fields: []field{text("reason", "Reason")}}},
		{st.SurveyPending, action{Name: "survey", Label: "Record survey", Done: "Survey recorded.", Fields: []field{
			{Name: "ratings.attitude", Label: "Attitude", Kind: "rating", Required: true},
			{Name: "ratings.speed", Label: "Speed", Kind: "rating", Required: true},
			{Name: "ratings.quality", Label: "Quality", Kind: "rating", Required: true},
			{Name: "ratings.parts", Label: "Parts", Kind: "rating", Required: true},
			{Name: "ratings.cost", Label: "Cost", Kind: "rating", Required: true},
			{Name: "surveyed_at", Label: "Surveyed at (if earlier)", Kind: "datetime-local"}}}},
		{live, action{Name: "reassign", Label: "Reassign", Done: "Reassigned.", Fields: []field{
			{Name: "assignee_id", Label: "New assignee", Kind: "select", Required: true, Options: d.agents(scope(me(r)), st.AssigneeID)},
			text("reason", "Reason")}}},
		{live && len(openClocks) > 0, action{Name: "extend", Label: "Extend a deadline", Done: "Deadline extended.", Fields: []field{
			{Name: "clock", Label: "Clock", Kind: "select", Required: true, Options: openClocks},
			{Name: "due_at", Label: "New due", Kind: "datetime-local", Required: true, Hint: c.zone()},
			text("reason", "Reason")}}},
	}
	var out []action
	for _, k := range candidates {
		if k.show {
			out = c.offer(r, out, k.a, "complaints", st.ComplaintNo, k.a.Name)
		}
	}
	return out
}

// text is a required free-text field.
func text(name, label string) field {
	return field{Name: name, Label: label, Kind: "textarea", Required: true}
}

// offer appends a to actions when the API's Access rules let the person
// send it now (asked of the API, not decided here); its form then posts to
// /console/do/<path>.
func (c *Console) offer(r *http.Request, actions []action, a action, path ...string) []action {
	target := apiPath(path...)
	if !c.allowed(r.Context(), http.MethodPost, target) {
		return actions
	}
	a.Path = strings.TrimPrefix(target, "/api/v1/")
	return append(actions, a)
}
