package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The team ranking page (R4.7): a month's standings (each item's points,
// the total, the rank, the grade and the band of the members' grades) as
// GET /api/v1/rankings/{month} shows them to the person (HR and officers
// every team, a manager their teams); HR's forms to enter, correct and
// delete an item; the manager's E call on a D team, offered to whoever the
// API allows. Entering an item is a PUT with a rank per team and deleting
// one a DELETE, so these forms post to /console/ranking/{op} (as the admin
// page's do), which makes the one API call; its answer is shown as any
// command's (sent).

// rankingDoc is GET /api/v1/rankings/{month}.
type rankingDoc struct {
	Month     string `json:"month"`
	TeamCount int    `json:"team_count"`
	Items     []struct {
		ID        string         `json:"id"`
		Name      string         `json:"name"`
		Level     int            `json:"level"`
		Ranked    bool           `json:"ranked"`
		Ranks     map[string]int `json:"ranks"`
		Points    map[string]int `json:"points"`
		UpdatedBy string         `json:"updated_by"`
		UpdatedAt time.Time      `json:"updated_at"`
	} `json:"items"`
	Teams []struct {
		TeamID        string `json:"team_id"`
		TeamName      string `json:"team_name"`
		Total         int    `json:"total"`
		Rank          int    `json:"rank"`
		Grade         string `json:"grade"`
		ComputedGrade string `json:"computed_grade"`
		Call          *struct {
			Grade  string    `json:"grade"`
			By     string    `json:"by"`
			At     time.Time `json:"at"`
			Reason string    `json:"reason"`
		} `json:"call"`
		MemberGrades []string `json:"member_grades"`
	} `json:"teams"`
}

type rankingPage struct {
	Month     string
	Months    []option
	TeamCount int
	Columns   []string // the items, as the standings' columns
	Teams     []rankingTeamRow
	Items     []rankingItemRow
	// New is HR's form for a new item; nil for everyone else.
	New *itemForm
}

type rankingTeamRow struct {
	ID, Name, Grade, Note, Band string
	Rank, Total                 int
	Points                      []labelled
	// Call is the E call's form, when the person may make it now.
	Call *callForm
}

type labelled struct{ Label, Value string }

type rankingItemRow struct {
	ID, Name, Changed string
	Level             int
	Ranked            bool
	Edit              *itemForm // HR only
	Delete            bool      // HR only
}

// itemForm enters one item: its id (fixed when editing), name, level, and
// each team's rank.
type itemForm struct {
	Month, ID, Name string
	Levels          []option // 1-4, the item's selected
	Editing         bool
	Max             int // n, the rank inputs' max
	Ranks           []rankInput
}

type rankInput struct {
	Team, Name, Value string
}

// callForm calls E on a D team, or withdraws it (Grade "D").
type callForm struct {
	Month, Team, Grade, Label string
}

// rankingMonths are the months offered: next month (HR sets items ahead,
// seed 001: by the 25th), this month and the twelve before.
func (c *Console) rankingMonths(selected string) []option {
	y, m, _ := time.Now().In(c.loc).Date()
	var out []option
	for i := 1; i >= -12; i-- {
		v := time.Date(y, m+time.Month(i), 1, 0, 0, 0, 0, c.loc).Format("2006-01")
		out = append(out, option{Value: v, Label: v, Selected: v == selected})
	}
	return out
}

func (c *Console) rankingData(r *http.Request, d directory) (any, error) {
	ctx, month := r.Context(), c.monthParam(r)
	var doc rankingDoc
	if err := c.get(ctx, apiPath("rankings", month), &doc); err != nil {
		return nil, err
	}
	page := rankingPage{Month: month, Months: c.rankingMonths(month), TeamCount: doc.TeamCount}
	mayEnter := c.allowed(ctx, http.MethodPut, apiPath("rankings", month, "items", "x"))
	mayDelete := c.allowed(ctx, http.MethodDelete, apiPath("rankings", month, "items", "x"))

	// The teams an item ranks: the month's (HR sees them all), or, before
	// the first ranked item, every team (the API's rule, R4.7).
	var teams []rankInput
	for _, t := range doc.Teams {
		teams = append(teams, rankInput{Team: t.TeamID, Name: t.TeamName})
	}
	if teams == nil {
		for _, t := range d.teams {
			teams = append(teams, rankInput{Team: t.ID, Name: t.Name})
		}
	}
	for _, it := range doc.Items {
		page.Columns = append(page.Columns, it.Name)
		row := rankingItemRow{ID: it.ID, Name: it.Name, Level: it.Level, Ranked: it.Ranked, Delete: mayDelete,
			Changed: d.name(it.UpdatedBy) + ", " + c.when(it.UpdatedAt)}
		if mayEnter {
			f := &itemForm{Month: month, ID: it.ID, Name: it.Name, Levels: levels(it.Level), Editing: true, Max: len(teams)}
			for _, t := range teams {
				v := ""
				if rk, ok := it.Ranks[t.Team]; ok {
					v = strconv.Itoa(rk)
				}
				f.Ranks = append(f.Ranks, rankInput{Team: t.Team, Name: t.Name, Value: v})
			}
			row.Edit = f
		}
		page.Items = append(page.Items, row)
	}
	if mayEnter {
		page.New = &itemForm{Month: month, Levels: levels(1), Max: len(teams), Ranks: teams}
	}

	for _, t := range doc.Teams {
		row := rankingTeamRow{ID: t.TeamID, Name: t.TeamName, Grade: t.Grade, Rank: t.Rank, Total: t.Total,
			Band: strings.Join(t.MemberGrades, ", ")}
		if t.Call != nil && t.Grade != t.ComputedGrade {
			row.Note = fmt.Sprintf("R4.7 gives %s; %s at the manager's call, by %s: %s", t.ComputedGrade, t.Grade, d.name(t.Call.By), t.Call.Reason)
		}
		for _, it := range doc.Items {
			v := "—" // not ranked yet
			if p, ok := it.Points[t.TeamID]; ok {
				v = strconv.Itoa(p)
			}
			row.Points = append(row.Points, labelled{Label: it.Name, Value: v})
		}
		// E only in place of a D (R4.7); the API decides who may.
		if t.ComputedGrade == "D" && c.allowed(ctx, http.MethodPut, apiPath("rankings", month, "teams", t.TeamID, "grade")) {
			row.Call = &callForm{Month: month, Team: t.TeamID, Grade: "E", Label: "Grade E"}
			if t.Grade == "E" {
				row.Call.Grade, row.Call.Label = "D", "Withdraw the E"
			}
		}
		page.Teams = append(page.Teams, row)
	}
	return page, nil
}

// levels are an item's levels (R4.7: 1-4, the weight) as options.
func levels(selected int) []option {
	var out []option
	for l := 1; l <= 4; l++ {
		out = append(out, option{Value: strconv.Itoa(l), Label: strconv.Itoa(l), Selected: l == selected})
	}
	return out
}

// rankingDo is POST /console/ranking/{op}: item (PUT an item), delete
// (DELETE one), grade (PUT a team's grade call).
func (c *Console) rankingDo(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.answer(w, r, &problem{Status: http.StatusBadRequest, Message: "the form could not be read"})
		return
	}
	f := r.PostForm
	month := f.Get("month")
	var (
		method, target string
		body           any
	)
	switch chi.URLParam(r, "op") {
	case "item":
		item := map[string]any{"level": number(f.Get("level"))}
		if v := f.Get("name"); v != "" {
			item["name"] = v
		}
		ranks := map[string]any{}
		for name, values := range f {
			if team, ok := strings.CutPrefix(name, "rank."); ok && len(values) > 0 && values[0] != "" {
				ranks[team] = number(values[0])
			}
		}
		if len(ranks) > 0 { // none: an item set ahead, not ranked yet
			item["ranks"] = ranks
		}
		method, target, body = http.MethodPut, apiPath("rankings", month, "items", f.Get("item")), item
	case "delete":
		method, target = http.MethodDelete, apiPath("rankings", month, "items", f.Get("item"))
	case "grade":
		method, target = http.MethodPut, apiPath("rankings", month, "teams", f.Get("team"), "grade")
		body = map[string]any{"grade": f.Get("grade"), "reason": f.Get("reason")}
	default:
		c.answer(w, r, &problem{Status: http.StatusNotFound, Message: "there is no such form"})
		return
	}
	var j []byte
	if body != nil {
		var err error
		if j, err = json.Marshal(body); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	status, h, resp := c.api.Call(r.Context(), me(r), method, target, nil, j)
	c.sent(w, r, status, h, resp)
}

// number is a form value as a JSON number, or as the text it is when it is
// not one (the API then names the field).
func number(v string) any {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return n
	}
	return v
}
