// Package ranking is R4.7, the monthly team ranking of seed 001: HR sets a
// month's items, each with a level 1-4 (its weight), and ranks the teams in
// each; among n teams, rank r in an item earns level x (n + 1 - r) points;
// the month's totals rank the teams and grade them A to D (E only at a
// manager's call on a D team); and a team's grade bounds its members'
// grades.
//
// The package is pure: plain integers (every figure is a whole number of
// points, so nothing is rounded), no clock, no I/O. The HTTP layer
// (server/ranking.go) and the schema (migration 00017) check the same rules
// again at their edges.
package ranking

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Levels of an item (R4.7: 1-4): its weight, the points of its last place.
const (
	MinLevel = 1
	MaxLevel = 4
)

// The R4.7 totals that grade a team besides its rank.
const (
	// TopTotal: a month's total at or above it is an A, whatever the rank.
	TopTotal = 92
	// LowTotal: the worst team is a D only with a total below it.
	LowTotal = 35
)

// Grade is a team's or a member's grade, A (best) to E (worst).
type Grade string

const (
	A Grade = "A"
	B Grade = "B"
	C Grade = "C"
	D Grade = "D"
	E Grade = "E"
)

// grades is every grade, best first: a grade's index is its order.
var grades = []Grade{A, B, C, D, E}

// Valid reports whether g is one of A to E.
func (g Grade) Valid() bool { return slices.Contains(grades, g) }

func (g Grade) order() int { return slices.Index(grades, g) }

// ErrInvalid is wrapped by every validation error of the package.
var ErrInvalid = errors.New("ranking: invalid input")

// Problems are validation problems by subject (a team id, "level",
// "ranks"), each a phrase that reads after its subject. The HTTP layer
// turns them into field-level 400s.
type Problems map[string]string

func (p Problems) Error() string {
	parts := make([]string, 0, len(p))
	for _, k := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, k+": "+p[k])
	}
	return ErrInvalid.Error() + ": " + strings.Join(parts, "; ")
}

func (p Problems) Unwrap() error { return ErrInvalid }

// CheckLevel returns the problem with an item's level, "" when it is 1-4.
func CheckLevel(level int) string {
	if level < MinLevel || level > MaxLevel {
		return fmt.Sprintf("must be %d to %d (R4.7)", MinLevel, MaxLevel)
	}
	return ""
}

// CheckRanks checks one item's ranks (team id -> rank, 1 = best) among the
// n = len(ranks) teams it ranks; nil when they are fine. Empty is fine: an
// item not ranked yet.
//
// Ties (R4.7 is silent; this is our rule): teams that tie share the better
// rank and the places they fill are skipped, as in sport and as the CSI
// report ranks (1, 2, 2, 4). So a team's rank is always 1 + the number of
// teams ranked better, which is what is checked, and tied teams earn the
// better rank's points (level x (n + 1 - r)). We chose this over sharing
// the average of the places' points because it keeps every figure a whole
// number and is what HR writes down from a ranked list; the price is that a
// tie adds points to the item (two teams tied first among 8 on a level-1
// item earn 8 each, not 7.5).
func CheckRanks(ranks map[string]int) Problems {
	n := len(ranks)
	p := Problems{}
	for team, r := range ranks {
		if r < 1 || r > n {
			p[team] = fmt.Sprintf("rank %d must be 1 to %d (the teams ranked)", r, n)
		}
	}
	if len(p) > 0 {
		return p
	}
	for team, r := range ranks {
		better := 0
		for _, other := range ranks {
			if other < r {
				better++
			}
		}
		if r != better+1 {
			p[team] = fmt.Sprintf("rank %d must be %d: %d %s ranked better, and tied teams share the better rank, "+
				"skipping the places they fill (1, 2, 2, 4; R4.7)", r, better+1, better, plural(better, "team is", "teams are"))
		}
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Points is R4.7: among n teams, rank r of an item of level level earns
// level x (n + 1 - r). Seed 001's examples among 8 teams: a level-1 item
// gives the first 8 and the eighth 1; a level-4 item the first 32, the
// second 28, the eighth 4.
func Points(level, n, rank int) int { return level * (n + 1 - rank) }

// Item is one ranking item of a month.
type Item struct {
	ID    string
	Level int
	// Ranks is each team's rank in the item, 1 = best (see CheckRanks for
	// ties); empty while the item is not ranked yet.
	Ranks map[string]int
}

// Ranked reports whether the item's teams are ranked yet.
func (it Item) Ranked() bool { return len(it.Ranks) > 0 }

// Points is each ranked team's points in the item (R4.7).
func (it Item) Points() map[string]int {
	out := make(map[string]int, len(it.Ranks))
	for team, r := range it.Ranks {
		out[team] = Points(it.Level, len(it.Ranks), r)
	}
	return out
}

// Standing is one team's month.
type Standing struct {
	TeamID string
	// Points are the team's points by item id (ranked items only).
	Points map[string]int
	Total  int
	// Rank is by total among the month's teams, 1 = best; equal totals
	// share the better rank (1, 1, 3), as within an item.
	Rank int
	// Grade is R4.7's, before any manager's call (see WithCall).
	Grade Grade
}

// Month is a month's ranking.
type Month struct {
	// Teams are the teams the month's ranked items rank, sorted: its n.
	Teams []string
	// Standings are by rank, then team id; none while no item is ranked.
	Standings []Standing
}

// Tally ranks and grades a month's teams from its items (R4.7). Every item
// must have a valid level and valid ranks, and every ranked item must rank
// the same teams: R4.7 ranks teams "among n teams", so a team missing from
// one item would lose that item's points for nothing it did. Items not yet
// ranked count for nothing.
func Tally(items []Item) (Month, error) {
	var m Month
	totals := map[string]int{}
	points := map[string]map[string]int{}
	for _, it := range items {
		if p := CheckLevel(it.Level); p != "" {
			return Month{}, fmt.Errorf("%w: item %s: level %d %s", ErrInvalid, it.ID, it.Level, p)
		}
		if !it.Ranked() {
			continue
		}
		if p := CheckRanks(it.Ranks); p != nil {
			return Month{}, fmt.Errorf("item %s: %w", it.ID, p)
		}
		teams := slices.Sorted(maps.Keys(it.Ranks))
		if m.Teams == nil {
			m.Teams = teams
		} else if !slices.Equal(m.Teams, teams) {
			return Month{}, fmt.Errorf("%w: item %s ranks %v, another item %v: every item ranks the month's teams",
				ErrInvalid, it.ID, teams, m.Teams)
		}
		for team, pts := range it.Points() {
			totals[team] += pts
			if points[team] == nil {
				points[team] = map[string]int{}
			}
			points[team][it.ID] = pts
		}
	}
	ranks := rankByTotal(totals)
	worst := 0
	for _, r := range ranks {
		worst = max(worst, r)
	}
	for _, team := range m.Teams {
		m.Standings = append(m.Standings, Standing{TeamID: team, Points: points[team], Total: totals[team],
			Rank: ranks[team], Grade: GradeOf(ranks[team], worst, totals[team])})
	}
	slices.SortStableFunc(m.Standings, func(a, b Standing) int { return cmp.Compare(a.Rank, b.Rank) })
	return m, nil
}

// rankByTotal ranks teams by total, highest first; equal totals share the
// better rank.
func rankByTotal(totals map[string]int) map[string]int {
	ranks := make(map[string]int, len(totals))
	for team, t := range totals {
		r := 1
		for _, other := range totals {
			if other > t {
				r++
			}
		}
		ranks[team] = r
	}
	return ranks
}

// GradeOf is R4.7's team grade of a team ranked rank (by total) with total
// points, in a month whose worst rank is worst. The clauses are tried in
// R4.7's order and the first that holds decides:
//
//	A  the best team (rank 1, so every team tied first), or total >= 92
//	B  the second (rank 2; nobody is second when two tie first)
//	D  the worst (rank == worst, so every team tied last) and total < 35
//	C  otherwise
//
// So a lone team is an A (best before worst), a second team with 92 or more
// is an A, and of two teams the second is a B even with a total below 35.
func GradeOf(rank, worst, total int) Grade {
	switch {
	case rank == 1 || total >= TopTotal:
		return A
	case rank == 2:
		return B
	case rank == worst && total < LowTotal:
		return D
	default:
		return C
	}
}

// MayCall reports whether a manager may call E on a team graded g: R4.7
// gives E only "at the manager's call", and only in place of a D.
func MayCall(g Grade) bool { return g == D }

// WithCall is the team's grade once the manager's call is applied: E
// replaces a D; a call on a team no longer graded D (its items changed
// since) has no effect, so an E never outlives the D it replaced.
func WithCall(computed, call Grade) Grade {
	if computed == D && call == E {
		return E
	}
	return computed
}

// MemberBand is the best and worst grade a member of a team graded team
// may get (R4.7): A or B team, A to C; C team, B to D; D team, C to E. An
// E team is a D team at the manager's call, so its members' band is D's.
func MemberBand(team Grade) (best, worst Grade, err error) {
	switch team {
	case A, B:
		return A, C, nil
	case C:
		return B, D, nil
	case D, E:
		return C, E, nil
	}
	return "", "", fmt.Errorf("%w: team grade %q: want A to E", ErrInvalid, team)
}

// MemberGrades lists the grades a member of a team graded team may get,
// best first.
func MemberGrades(team Grade) ([]Grade, error) {
	best, worst, err := MemberBand(team)
	if err != nil {
		return nil, err
	}
	return slices.Clone(grades[best.order() : worst.order()+1]), nil
}

// ClampMember is member brought into the band of a team graded team: a
// grade above the band becomes its best, one below its worst (a C team's
// star gets B, not A; an A team's weakest gets C, not D).
func ClampMember(team, member Grade) (Grade, error) {
	best, worst, err := MemberBand(team)
	if err != nil {
		return "", err
	}
	if !member.Valid() {
		return "", fmt.Errorf("%w: member grade %q: want A to E", ErrInvalid, member)
	}
	switch {
	case member.order() < best.order():
		return best, nil
	case member.order() > worst.order():
		return worst, nil
	}
	return member, nil
}

// CheckMember returns an error when member is not a grade a member of a
// team graded team may get.
func CheckMember(team, member Grade) error {
	got, err := ClampMember(team, member)
	if err != nil {
		return err
	}
	if got != member {
		best, worst, _ := MemberBand(team)
		return fmt.Errorf("%w: a member of a %s team is graded %s to %s, not %s (R4.7)", ErrInvalid, team, best, worst, member)
	}
	return nil
}
