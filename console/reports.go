package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/acme/aftersales/auth"
)

// The reports page (R7): the API's report endpoints, drawn. Every chart is
// inline SVG drawn from the numbers beside it (attributes only: the CSP
// allows no inline style), and every number is also in a table, for
// screen readers and for copying.

type rate = *json.Number

type timelinessRow struct {
	ID, TeamID string
	timelinessCounts
}

// timelinessCounts are a row's counts in GET /api/v1/reports/timeliness.
type timelinessCounts struct {
	Received int  `json:"received"`
	Timely   int  `json:"timely"`
	Untimely int  `json:"untimely"`
	Pending  int  `json:"pending"`
	Rate     rate `json:"on_time_rate"`
}

// timelinessDoc is GET /api/v1/reports/timeliness.
type timelinessDoc struct {
	Agents []struct {
		AgentID string `json:"agent_id"`
		TeamID  string `json:"team_id"`
		timelinessCounts
	} `json:"agents"`
	Teams []struct {
		TeamID string `json:"team_id"`
		timelinessCounts
	} `json:"teams"`
}

// csiDoc is GET /api/v1/reports/csi.
type csiDoc struct {
	Agents []struct {
		EmployeeID string      `json:"employee_id"`
		TeamID     string      `json:"team_id"`
		Score      json.Number `json:"score"`
		Band       string      `json:"band"`
		Rank       int         `json:"rank"`
		TeamRank   int         `json:"team_rank"`
	} `json:"agents"`
	Teams []struct {
		TeamID  string      `json:"team_id"`
		Average json.Number `json:"average"`
		Band    string      `json:"band"`
		Members int         `json:"members"`
		Rank    int         `json:"rank"`
	} `json:"teams"`
	Trend struct {
		Months []string `json:"months"`
		Teams  []struct {
			TeamID string `json:"team_id"`
			Points []struct {
				Average *json.Number `json:"average"`
			} `json:"points"`
		} `json:"teams"`
		Agents []struct {
			EmployeeID string `json:"employee_id"`
			Points     []struct {
				Score *json.Number `json:"score"`
			} `json:"points"`
		} `json:"agents"`
	} `json:"trend"`
}

type appealsDoc struct {
	Months []struct {
		Month string `json:"month"`
		appealCounts
	} `json:"months"`
	Total appealCounts `json:"total"`
}

type appealCounts struct {
	Opened         int `json:"opened"`
	Withdrawn      int `json:"withdrawn"`
	Upheld         int `json:"upheld"`
	Rejected       int `json:"rejected"`
	Open           int `json:"open"`
	Stage2         int `json:"stage2"`
	DeadlineMissed int `json:"deadline_missed"`
}

type approvalsDoc struct {
	Steps []struct {
		Step             string `json:"step"`
		Pending          int    `json:"pending"`
		Overdue          int    `json:"overdue"`
		OldestAgeSeconds int64  `json:"oldest_age_seconds"`
	} `json:"steps"`
	Items []struct {
		NominationNo string     `json:"nomination_no"`
		NomineeID    string     `json:"nominee_id"`
		Step         string     `json:"step"`
		AgeSeconds   int64      `json:"age_seconds"`
		DueAt        *time.Time `json:"due_at"`
		Overdue      bool       `json:"overdue"`
	} `json:"items"`
}

// bar is one bar of a horizontal bar chart.
type bar struct {
	Label, Text string
	Y, Width    int
}

// barChart is an SVG bar chart of values from 0 to Max.
type barChart struct {
	Title  string
	Max    float64
	Height int
	Bars   []bar
}

// chartWidth is the charts' width in SVG units (they scale to the page).
const chartWidth = 600

func (c *barChart) add(label string, v float64, text string) {
	w := 0
	if c.Max > 0 {
		w = int(v / c.Max * (chartWidth - 220))
	}
	c.Bars = append(c.Bars, bar{Label: label, Text: text, Y: 24 * len(c.Bars), Width: w})
	c.Height = 24 * len(c.Bars)
}

// lineChart is an SVG line chart of 12 months from 0 to 100.
type lineChart struct {
	Title  string
	Months []axisLabel
	Lines  []line
}

type axisLabel struct {
	X    int
	Text string
}

type point struct{ X, Y int }

type line struct {
	Label, Points string
	Dots          []point
	Colour        int
}

func trendChart(title string, months []string, series map[string][]*json.Number, order []string) lineChart {
	c := lineChart{Title: title}
	x := func(i int) int { return 40 + i*(chartWidth-60)/max(len(months)-1, 1) }
	y := func(v float64) int { return 180 - int(v*1.6) }
	for i, m := range months {
		c.Months = append(c.Months, axisLabel{X: x(i), Text: m[5:]})
	}
	for n, name := range order {
		l := line{Label: name, Colour: n % 4}
		var pts []string
		for i, v := range series[name] {
			if v == nil {
				continue
			}
			f, _ := v.Float64()
			pts = append(pts, fmt.Sprintf("%d,%d", x(i), y(f)))
			l.Dots = append(l.Dots, point{X: x(i), Y: y(f)})
		}
		l.Points = strings.Join(pts, " ")
		c.Lines = append(c.Lines, l)
	}
	return c
}

type reportsPage struct {
	Month, From                      string
	Months                           []option
	AgentsTimeliness, TeamTimeliness []timelinessRow
	TimelinessChart                  barChart
	CSIAgents                        []csiRow
	CSITeams                         []csiRow
	CSIChart                         barChart
	TrendChart                       lineChart
	Appeals                          appealsDoc
	AppealsShown                     bool
	Approvals                        []approvalRow
	ApprovalSteps                    []approvalStepRow
	ApprovalsShown                   bool
}

type csiRow struct {
	Name, Team, Score, Band string
	Rank, TeamRank, Members int
}

type approvalRow struct {
	No, Nominee, Step, Age, Due string
	Overdue                     bool
}

type approvalStepRow struct {
	Step, Oldest     string
	Pending, Overdue int
}

func (c *Console) reportsData(r *http.Request, d directory) (any, error) {
	ctx, p := r.Context(), me(r)
	month := c.monthParam(r)
	page := reportsPage{Month: month}
	y, m, _ := time.Now().In(c.loc).Date()
	for i := 1; i <= 12; i++ {
		v := time.Date(y, m-time.Month(i), 1, 0, 0, 0, 0, c.loc).Format("2006-01")
		page.Months = append(page.Months, option{Value: v, Label: v, Selected: v == month})
	}
	q := "?" + url.Values{"month": {month}}.Encode()

	var tl timelinessDoc
	if err := c.get(ctx, "/api/v1/reports/timeliness"+q, &tl); err != nil {
		return nil, err
	}
	page.TimelinessChart = barChart{Title: "On-time rate by team, %", Max: 100}
	for _, t := range tl.Teams {
		page.TeamTimeliness = append(page.TeamTimeliness, timelinessRow{ID: d.teamName(t.TeamID), timelinessCounts: t.timelinessCounts})
		page.TimelinessChart.add(d.teamName(t.TeamID), numFloat(t.Rate), num(t.Rate))
	}
	for _, a := range tl.Agents {
		page.AgentsTimeliness = append(page.AgentsTimeliness, timelinessRow{ID: d.name(a.AgentID), TeamID: d.teamName(a.TeamID),
			timelinessCounts: a.timelinessCounts})
	}

	var csi csiDoc
	if err := c.get(ctx, "/api/v1/reports/csi"+q, &csi); err != nil {
		return nil, err
	}
	page.CSIChart = barChart{Title: "CSI score by agent", Max: 100}
	for _, a := range csi.Agents {
		page.CSIAgents = append(page.CSIAgents, csiRow{Name: d.name(a.EmployeeID), Team: d.teamName(a.TeamID), Score: a.Score.String(),
			Band: a.Band, Rank: a.Rank, TeamRank: a.TeamRank})
		f, _ := a.Score.Float64()
		page.CSIChart.add(d.name(a.EmployeeID), f, a.Score.String())
	}
	for _, t := range csi.Teams {
		page.CSITeams = append(page.CSITeams, csiRow{Name: d.teamName(t.TeamID), Score: t.Average.String(), Band: t.Band,
			Rank: t.Rank, Members: t.Members})
	}
	series, order := map[string][]*json.Number{}, []string{}
	for _, t := range csi.Trend.Teams {
		name := d.teamName(t.TeamID)
		order = append(order, name)
		for _, pt := range t.Points {
			series[name] = append(series[name], pt.Average)
		}
	}
	page.TrendChart = trendChart("CSI by team, the 12 months to "+month, csi.Trend.Months, series, order)

	// Appeals and approvals are oversight reports: HR, officers, managers.
	if p.Has(auth.HR, auth.EscalationOfficer, auth.Manager) {
		from := time.Date(y, m-12, 1, 0, 0, 0, 0, c.loc).Format("2006-01")
		page.From = from
		if err := c.get(ctx, "/api/v1/reports/appeals?"+url.Values{"from": {from}, "to": {month}}.Encode(), &page.Appeals); err != nil {
			return nil, err
		}
		page.AppealsShown = true
		var ap approvalsDoc
		if err := c.get(ctx, "/api/v1/reports/approvals?limit=100", &ap); err != nil {
			return nil, err
		}
		page.ApprovalsShown = true
		for _, s := range ap.Steps {
			page.ApprovalSteps = append(page.ApprovalSteps, approvalStepRow{Step: stepLabels[s.Step], Pending: s.Pending, Overdue: s.Overdue,
				Oldest: span(time.Duration(s.OldestAgeSeconds) * time.Second)})
		}
		for _, it := range ap.Items {
			page.Approvals = append(page.Approvals, approvalRow{No: it.NominationNo, Nominee: d.name(it.NomineeID), Step: stepLabels[it.Step],
				Age: span(time.Duration(it.AgeSeconds) * time.Second), Due: c.whenP(it.DueAt), Overdue: it.Overdue})
		}
	}
	return page, nil
}

func numFloat(n *json.Number) float64 {
	if n == nil {
		return 0
	}
	f, _ := n.Float64()
	return f
}
