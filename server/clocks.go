package server

import (
	"net/http"
	"time"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/workflows"
)

// openClockItem is one running clock of GET /api/v1/clocks.
type openClockItem struct {
	ComplaintNo string              `json:"complaint_no"`
	Clock       workflows.ClockName `json:"clock"`
	State       string              `json:"state"`
	// Level 1 fires at DueAt, level 2 at Level2DueAt; WarnAt is the warning.
	DueAt            time.Time  `json:"due_at"`
	WarnAt           *time.Time `json:"warn_at"`
	Level2DueAt      *time.Time `json:"level2_due_at"`
	RemainingSeconds int64      `json:"remaining_seconds"` // negative once overdue
	AssigneeID       string     `json:"assignee_id"`
	TeamID           string     `json:"team_id"`
	ReceivedAt       time.Time  `json:"received_at"`
}

func (s *Server) openClockOf(k db.ListOpenClocksRow, now time.Time) openClockItem {
	// State is the view open_clocks' (migration 00013): the one home of a
	// running clock's state, which the complaint_open_clocks gauge reads too.
	return openClockItem{
		ComplaintNo: k.ComplaintNo, Clock: workflows.ClockName(k.Clock), State: k.State, DueAt: shownTime(k.DueAt, s.loc),
		WarnAt: localTime(k.WarnAt, s.loc), Level2DueAt: localTime(k.Level2At, s.loc),
		RemainingSeconds: workflows.Clock{DueAt: k.DueAt}.Remaining(now),
		AssigneeID:       k.AssigneeID, TeamID: k.TeamID, ReceivedAt: shownTime(k.ReceivedAt, s.loc),
	}
}

type openClockCursor struct {
	DueAt time.Time `json:"d"`
	No    string    `json:"n"`
	Clock string    `json:"c"`
}

// GET /api/v1/clocks: every running clock of the open complaints, soonest
// due first (the officers' board; R7's open and breached clocks). A manager
// sees their teams, an agent their own complaints (R7).
func (s *Server) listOpenClocks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	errs := fieldErrors{}
	pg := parsePage(q, errs)
	p := db.ListOpenClocksParams{RowLimit: int32(pg.limit + 1)}
	if v := q.Get("clock"); v != "" {
		switch workflows.ClockName(v) {
		case workflows.ClockContact, workflows.ClockPlan, workflows.ClockResolution:
			p.Clock = &v
		default:
			errs.add("clock", "must be contact, plan or resolution")
		}
	}
	if v := q.Get("assignee_id"); v != "" {
		p.AssigneeID = &v
	}
	if v := q.Get("team_id"); v != "" {
		p.TeamID = &v
	}
	if v := q.Get("due_before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs.add("due_before", "must be an RFC 3339 instant with offset")
		}
		p.DueBefore = &t
	}
	var cur openClockCursor
	if pg.decodeCursor(&cur, errs) {
		p.AfterDueAt, p.AfterNo, p.AfterClock = &cur.DueAt, &cur.No, &cur.Clock
	}
	if err := errs.err(); err != nil {
		return err
	}
	switch me := principal(r); {
	case me.Has(auth.HR, auth.EscalationOfficer):
	case me.Has(auth.Manager):
		p.TeamIds = append([]string{}, me.ManagedTeams...)
	default:
		p.AssigneeID = &me.UserID
	}
	rows, err := s.q.ListOpenClocks(r.Context(), p)
	if err != nil {
		return err
	}
	now := time.Now()
	writeJSON(w, http.StatusOK, paginate(rows, pg.limit,
		func(k db.ListOpenClocksRow) any {
			return openClockCursor{DueAt: k.DueAt, No: k.ComplaintNo, Clock: k.Clock}
		},
		func(k db.ListOpenClocksRow) openClockItem { return s.openClockOf(k, now) }))
	return nil
}
