package server

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/aftersales/auth"
	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/input"
	"github.com/acme/aftersales/ranking"
)

// The R4.7 team ranking (seed 001; issue 13, item 6). HR enters a month's
// items, each with its level and every team's rank; the month's points,
// totals, ranks and grades are computed by package ranking from the stored
// ranks on every read, so nothing derived is stored or can go stale. A
// team graded D may be given an E at its manager's call.
//
// Decisions where R4.7 is silent (README "Team ranking"):
//   - Ties: tied teams share the better rank and its points; the places
//     they fill are skipped (1, 2, 2, 4). See ranking.CheckRanks.
//   - The month's teams: every ranked item of a month ranks the same teams,
//     those the month's other ranked items rank, or, for the first, every
//     team there is. A team created mid-month joins next month's ranking.
//   - E: the team's managers (its supervisor, its department head) or HR
//     call it, with a reason, and only for a team graded D; a call of D
//     withdraws it. Each call is kept (who, when, why, R7).
//   - No month is frozen: HR may correct an item at any time; every change
//     is kept in ranking_item_log (who, when, what, R7).

// rankingRows: who reads a month's ranking (R7). HR and escalation
// officers every team; a manager the teams they manage (R1: a department
// head every team of the department).
var rankingRows = Rows{All: []auth.Role{auth.HR, auth.EscalationOfficer}, Teams: []auth.Role{auth.Manager}}

// rankingRoutes registers the ranking's routes under /api/v1.
func (s *Server) rankingRoutes(r chi.Router) {
	r.With(authorize(rankingRows.access())).Method(http.MethodGet, "/rankings/{month}", handlerFunc(s.getRanking))
	r.With(authorize(only(auth.HR))).Method(http.MethodPut, "/rankings/{month}/items/{item}", handlerFunc(s.putRankingItem))
	r.With(authorize(only(auth.HR))).Method(http.MethodDelete, "/rankings/{month}/items/{item}", handlerFunc(s.deleteRankingItem))
	r.With(authorize(Access{Roles: []auth.Role{auth.HR}, TeamRoles: []auth.Role{auth.Manager}, Resource: s.rankedTeam})).
		Method(http.MethodPut, "/rankings/{month}/teams/{team}/grade", handlerFunc(s.putTeamGrade))
}

// rankingItem is one item of a month as its reader sees it: ranks and
// points of the teams they may see.
type rankingItem struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Level     int            `json:"level"`
	Ranked    bool           `json:"ranked"`
	Ranks     map[string]int `json:"ranks"`
	Points    map[string]int `json:"points"`
	UpdatedBy string         `json:"updated_by"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// gradeCall is the manager's call in force on a team (R4.7, R7).
type gradeCall struct {
	Grade  string    `json:"grade"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

type teamStanding struct {
	TeamID   string `json:"team_id"`
	TeamName string `json:"team_name"`
	Total    int    `json:"total"`
	Rank     int    `json:"rank"`
	// Grade is the team's grade, the call applied; ComputedGrade R4.7's
	// before it.
	Grade         ranking.Grade `json:"grade"`
	ComputedGrade ranking.Grade `json:"computed_grade"`
	Call          *gradeCall    `json:"call"`
	// MemberGrades are the grades its members may get (R4.7), best first.
	MemberGrades []ranking.Grade `json:"member_grades"`
}

// rankingAnswer is GET /rankings/{month}, and the answer of every command
// on it.
type rankingAnswer struct {
	Month     string         `json:"month"`
	TeamCount int            `json:"team_count"` // n: the teams the month's ranked items rank
	Items     []rankingItem  `json:"items"`
	Teams     []teamStanding `json:"teams"`
}

// monthRanking is a month's stored rows and their tally.
type monthRanking struct {
	month     string
	items     []db.RankingItemsRow
	ranks     map[string]map[string]int // item -> team -> rank
	calls     map[string]db.TeamGradeCallsRow
	teamNames map[string]string // every team there is
	tally     ranking.Month
}

// loadRanking reads month through q (a transaction's, for a command).
func (s *Server) loadRanking(ctx context.Context, q *db.Queries, month string) (monthRanking, error) {
	m := monthRanking{month: month, ranks: map[string]map[string]int{}, calls: map[string]db.TeamGradeCallsRow{}, teamNames: map[string]string{}}
	var err error
	if m.items, err = q.RankingItems(ctx, month); err != nil {
		return m, err
	}
	ranks, err := q.RankingRanks(ctx, month)
	if err != nil {
		return m, err
	}
	for _, rk := range ranks {
		if m.ranks[rk.Item] == nil {
			m.ranks[rk.Item] = map[string]int{}
		}
		m.ranks[rk.Item][rk.TeamID] = int(rk.Rank)
	}
	calls, err := q.TeamGradeCalls(ctx, month)
	if err != nil {
		return m, err
	}
	for _, c := range calls {
		m.calls[c.TeamID] = c
	}
	teams, err := q.ListDirectoryTeams(ctx)
	if err != nil {
		return m, err
	}
	for _, t := range teams {
		m.teamNames[t.ID] = t.Name
	}
	items := make([]ranking.Item, 0, len(m.items))
	for _, it := range m.items {
		items = append(items, ranking.Item{ID: it.Item, Level: int(it.Level), Ranks: m.ranks[it.Item]})
	}
	// The schema keeps out what Tally refuses: an error here is a bug.
	if m.tally, err = ranking.Tally(items); err != nil {
		return m, fmt.Errorf("ranking %s: %w", month, err)
	}
	return m, nil
}

// standing is team's standing in the month, if it is ranked.
func (m monthRanking) standing(team string) (ranking.Standing, bool) {
	i := slices.IndexFunc(m.tally.Standings, func(st ranking.Standing) bool { return st.TeamID == team })
	if i < 0 {
		return ranking.Standing{}, false
	}
	return m.tally.Standings[i], true
}

// callOf is the grade of the call in force on team: "" for none.
func (m monthRanking) callOf(team string) ranking.Grade {
	return ranking.Grade(m.calls[team].Grade)
}

// answer is the month as a caller with scope sc sees it (R7): every item,
// the ranks, points and standings of the teams sc covers. Ranks stay
// among all the month's teams.
func (s *Server) rankingAnswerOf(m monthRanking, sc rowScope) (rankingAnswer, error) {
	out := rankingAnswer{Month: m.month, TeamCount: len(m.tally.Teams), Items: []rankingItem{}, Teams: []teamStanding{}}
	for _, it := range m.items {
		item := rankingItem{ID: it.Item, Name: it.Name, Level: int(it.Level), Ranked: it.Teams > 0,
			Ranks: map[string]int{}, Points: map[string]int{}, UpdatedBy: it.UpdatedBy, UpdatedAt: shownTime(it.UpdatedAt, s.loc)}
		for team, rk := range m.ranks[it.Item] {
			if sc.wholeTeam(team) {
				item.Ranks[team] = rk
				item.Points[team] = ranking.Points(item.Level, len(m.ranks[it.Item]), rk)
			}
		}
		out.Items = append(out.Items, item)
	}
	for _, st := range m.tally.Standings {
		if !sc.wholeTeam(st.TeamID) {
			continue
		}
		t := teamStanding{TeamID: st.TeamID, TeamName: cmp.Or(m.teamNames[st.TeamID], st.TeamID), Total: st.Total, Rank: st.Rank,
			ComputedGrade: st.Grade, Grade: ranking.WithCall(st.Grade, m.callOf(st.TeamID))}
		if c, ok := m.calls[st.TeamID]; ok {
			t.Call = &gradeCall{Grade: c.Grade, By: c.CalledBy, At: shownTime(c.CalledAt, s.loc), Reason: c.Reason}
		}
		var err error
		if t.MemberGrades, err = ranking.MemberGrades(t.Grade); err != nil {
			return out, err
		}
		out.Teams = append(out.Teams, t)
	}
	return out, nil
}

// rankingMonthParam is the path's month, within the service's horizon.
func (s *Server) rankingMonthParam(r *http.Request) (string, error) {
	v := chi.URLParam(r, "month")
	if _, p := input.Month(v, s.loc, time.Now()); p != "" {
		return "", badRequest(map[string]string{"month": p})
	}
	return v, nil
}

// writeRanking answers with month as the caller sees it.
func (s *Server) writeRanking(w http.ResponseWriter, r *http.Request, status int, month string) error {
	m, err := s.loadRanking(r.Context(), s.q, month)
	if err != nil {
		return err
	}
	out, err := s.rankingAnswerOf(m, rankingRows.of(principal(r)))
	if err != nil {
		return err
	}
	writeJSON(w, status, out)
	return nil
}

// GET /api/v1/rankings/{month}: a month without items is an empty
// ranking, not a 404 (HR opens it to enter the first item).
func (s *Server) getRanking(w http.ResponseWriter, r *http.Request) error {
	month, err := s.rankingMonthParam(r)
	if err != nil {
		return err
	}
	return s.writeRanking(w, r, http.StatusOK, month)
}

type rankingItemRequest struct {
	Name  string         `json:"name"`
	Level *int           `json:"level"`
	Ranks map[string]int `json:"ranks"`
}

// rankingWrite runs fn on month in one transaction holding the month's lock,
// with the month as stored before.
func (s *Server) rankingWrite(ctx context.Context, month string, fn func(q *db.Queries, m monthRanking) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockRankingMonth(ctx, month); err != nil {
			return err
		}
		m, err := s.loadRanking(ctx, q, month)
		if err != nil {
			return err
		}
		return fn(q, m)
	})
}

// PUT /api/v1/rankings/{month}/items/{item} (hr): the item's name, level
// and ranks, replacing what it had (201 when new). ranks may be left out
// while the month is ahead (an item set, not yet ranked); given, it ranks
// every team of the month (see the top of this file). The same body again
// changes nothing and records nothing.
func (s *Server) putRankingItem(w http.ResponseWriter, r *http.Request) error {
	month, err := s.rankingMonthParam(r)
	if err != nil {
		return err
	}
	item := chi.URLParam(r, "item")
	var req rankingItemRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	name := cmp.Or(lineField(errs, "name", req.Name, input.Name, false), item)
	if req.Level == nil {
		errs.add("level", fmt.Sprintf("required: %d to %d (R4.7)", ranking.MinLevel, ranking.MaxLevel))
	} else if p := ranking.CheckLevel(*req.Level); p != "" {
		errs.add("level", p)
	}
	for team := range req.Ranks {
		if p := input.ID(team); p != "" {
			errs.add("ranks", "each key must be a team id: "+p) // an odd key is not echoed as a field name
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	ranks := req.Ranks
	if ranks == nil {
		ranks = map[string]int{}
	}
	status := http.StatusOK
	err = s.rankingWrite(r.Context(), month, func(q *db.Queries, m monthRanking) error {
		if err := m.checkTeams(item, ranks); err != nil {
			return err
		}
		if p := ranking.CheckRanks(ranks); p != nil {
			f := fieldErrors{}
			for team, problem := range p {
				f.add("ranks."+team, problem)
			}
			return f.err()
		}
		i := slices.IndexFunc(m.items, func(it db.RankingItemsRow) bool { return it.Item == item })
		if i < 0 {
			status = http.StatusCreated
		} else if old := m.items[i]; old.Name == name && int(old.Level) == *req.Level && maps.Equal(m.ranks[item], ranks) {
			return nil // nothing changes, nothing to record
		}
		return storeItem(r.Context(), q, month, item, name, *req.Level, ranks, principal(r).UserID)
	})
	if err != nil {
		return err
	}
	return s.writeRanking(w, r, status, month)
}

// checkTeams checks that ranks (of item) rank exactly the month's teams:
// those the month's other ranked items rank, or every team when there is
// none (R4.7: "among n teams", the same n for every item).
func (m monthRanking) checkTeams(item string, ranks map[string]int) error {
	if len(ranks) == 0 {
		return nil
	}
	var want []string
	for other, rs := range m.ranks {
		if other != item {
			want = slices.Sorted(maps.Keys(rs)) // the schema keeps them all alike
			break
		}
	}
	why := "the teams the month's other items rank"
	if want == nil {
		want, why = slices.Sorted(maps.Keys(m.teamNames)), "every team, as no other item of the month is ranked"
	}
	errs := fieldErrors{}
	for team := range ranks {
		_, exists := m.teamNames[team]
		switch {
		case !exists:
			errs.add("ranks."+team, "no such team")
		case !slices.Contains(want, team):
			errs.add("ranks."+team, fmt.Sprintf("is not among the month's teams (%s: %s)", why, strings.Join(want, ", ")))
		}
	}
	var missing []string
	for _, team := range want {
		if _, ok := ranks[team]; !ok {
			missing = append(missing, team)
		}
	}
	if len(missing) > 0 {
		errs.add("ranks", fmt.Sprintf("must rank every team of the month (%s): missing %s", why, strings.Join(missing, ", ")))
	}
	return errs.err()
}

// storeItem writes an item and its ranks, and logs the change (R7).
func storeItem(ctx context.Context, q *db.Queries, month, item, name string, level int, ranks map[string]int, actor string) error {
	n := int16(len(ranks))
	// Ranks out first: their foreign key holds the item's old n.
	if err := q.DeleteRankingRanks(ctx, db.DeleteRankingRanksParams{Month: month, Item: item}); err != nil {
		return err
	}
	if _, err := q.UpsertRankingItem(ctx, db.UpsertRankingItemParams{Month: month, Item: item, Name: name,
		Level: int16(level), Teams: n, UpdatedBy: actor}); err != nil {
		return err
	}
	teams := slices.Sorted(maps.Keys(ranks))
	rs := make([]int16, len(teams))
	for i, team := range teams {
		rs[i] = int16(ranks[team])
	}
	if n > 0 {
		if err := q.InsertRankingRanks(ctx, db.InsertRankingRanksParams{Month: month, Item: item, Teams: n, TeamIds: teams, Ranks: rs}); err != nil {
			return err
		}
	}
	logged, err := json.Marshal(ranks)
	if err != nil {
		return err
	}
	return q.LogRankingItem(ctx, db.LogRankingItemParams{Month: month, Item: item, Action: "set", Name: &name,
		Level: pgtype.Int2{Int16: int16(level), Valid: true}, Ranks: logged, ActorID: actor})
}

// DELETE /api/v1/rankings/{month}/items/{item} (hr): 204, or 404 when the
// month has no such item. Logged (R7).
func (s *Server) deleteRankingItem(w http.ResponseWriter, r *http.Request) error {
	month, err := s.rankingMonthParam(r)
	if err != nil {
		return err
	}
	item := chi.URLParam(r, "item")
	err = s.rankingWrite(r.Context(), month, func(q *db.Queries, _ monthRanking) error {
		n, err := q.DeleteRankingItem(r.Context(), db.DeleteRankingItemParams{Month: month, Item: item})
		if err != nil {
			return err
		}
		if n == 0 {
			return &apiError{Status: http.StatusNotFound, Code: "not_found", Message: "no ranking item " + item + " in " + month}
		}
		return q.LogRankingItem(r.Context(), db.LogRankingItemParams{Month: month, Item: item, Action: "delete", ActorID: principal(r).UserID})
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rankedTeam is the Resource of a team's grade: the team of the path, 404
// when there is none.
func (s *Server) rankedTeam(r *http.Request) (Resource, error) {
	team := chi.URLParam(r, "team")
	ok, err := s.q.AdminTeamExists(r.Context(), team)
	switch {
	case err != nil:
		return Resource{}, err
	case !ok:
		return Resource{}, notFound("team")
	}
	return Resource{TeamIDs: []string{team}}, nil
}

type gradeCallRequest struct {
	Grade  string `json:"grade"`
	Reason string `json:"reason"`
}

// PUT /api/v1/rankings/{month}/teams/{team}/grade (hr, the team's
// managers): R4.7's "E at the manager's call". grade E replaces the team's
// D, with a reason; grade D withdraws an E. A team graded other than D is
// 409 for E. The call already in force again changes nothing. Answers the
// month as the caller sees it.
func (s *Server) putTeamGrade(w http.ResponseWriter, r *http.Request) error {
	month, err := s.rankingMonthParam(r)
	if err != nil {
		return err
	}
	team := chi.URLParam(r, "team")
	var req gradeCallRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	errs := fieldErrors{}
	grade := ranking.Grade(req.Grade)
	if grade != ranking.E && grade != ranking.D {
		errs.add("grade", "must be E (the manager's call on a D team, R4.7) or D (withdraws an E)")
	}
	req.Reason = textField(errs, "reason", req.Reason, input.Note)
	if err := errs.err(); err != nil {
		return err
	}
	if _, err := s.rankedTeam(r); err != nil { // HR passed the Access rule without it
		return err
	}
	err = s.rankingWrite(r.Context(), month, func(q *db.Queries, m monthRanking) error {
		st, ok := m.standing(team)
		switch {
		case !ok:
			return conflict(fmt.Sprintf("team %s is not ranked in %s: no item ranks it yet", team, month))
		case grade == ranking.E && !ranking.MayCall(st.Grade):
			return conflict(fmt.Sprintf("team %s is graded %s in %s: E may only replace a D (R4.7)", team, st.Grade, month))
		case cmp.Or(m.callOf(team), ranking.D) == grade:
			return nil // the call in force: nothing changes, nothing to record
		}
		return q.InsertTeamGradeCall(r.Context(), db.InsertTeamGradeCallParams{Month: month, TeamID: team, Grade: string(grade),
			Reason: req.Reason, CalledBy: principal(r).UserID})
	})
	if err != nil {
		return err
	}
	return s.writeRanking(w, r, http.StatusOK, month)
}
