package ranking

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

// R4.7 points: level x (n + 1 - r). Seed 001's own figures among 8 teams:
// level 1 gives the first 8, the second 7, the eighth 1; level 2 gives 16,
// 14, 2; level 3 gives 24, 21, 3; level 4 gives 32, 28, 4.
func TestR4_7_PointsSeedExamples(t *testing.T) {
	for _, c := range []struct{ level, n, rank, want int }{
		{1, 8, 1, 8}, {1, 8, 2, 7}, {1, 8, 8, 1},
		{2, 8, 1, 16}, {2, 8, 2, 14}, {2, 8, 8, 2},
		{3, 8, 1, 24}, {3, 8, 2, 21}, {3, 8, 8, 3},
		{4, 8, 1, 32}, {4, 8, 2, 28}, {4, 8, 8, 4},
		{3, 1, 1, 3}, // one team: 3 x (1 + 1 - 1)
		{2, 4, 2, 6}, // 2 x (4 + 1 - 2)
	} {
		if got := Points(c.level, c.n, c.rank); got != c.want {
			t.Errorf("Points(level %d, n %d, rank %d) = %d, want %d", c.level, c.n, c.rank, got, c.want)
		}
	}
}

func TestR4_7_CheckLevel(t *testing.T) {
	for level, ok := range map[int]bool{-1: false, 0: false, 1: true, 2: true, 3: true, 4: true, 5: false} {
		if got := CheckLevel(level) == ""; got != ok {
			t.Errorf("CheckLevel(%d) ok = %v, want %v", level, got, ok)
		}
	}
}

// R4.7 ties (our rule, see CheckRanks): a team's rank is 1 + the number of
// teams ranked better, so tied teams share the better rank and the places
// they fill are skipped.
func TestR4_7_CheckRanksTies(t *testing.T) {
	type ranks = map[string]int
	for _, c := range []struct {
		name  string
		ranks ranks
		bad   []string // the teams named in the problems
		says  string   // a phrase of the first bad team's problem
	}{
		{"not ranked yet", ranks{}, nil, ""},
		{"one team", ranks{"a": 1}, nil, ""},
		{"a strict order", ranks{"a": 1, "b": 2, "c": 3}, nil, ""},
		{"all tied", ranks{"a": 1, "b": 1, "c": 1}, nil, ""},
		{"tied second, fourth follows", ranks{"a": 1, "b": 2, "c": 2, "d": 4}, nil, ""},
		{"tied last", ranks{"a": 1, "b": 2, "c": 2}, nil, ""},
		{"rank 0", ranks{"a": 0, "b": 1}, []string{"a"}, "must be 1 to 2"},
		{"rank beyond n", ranks{"a": 1, "b": 3}, []string{"b"}, "must be 1 to 2"},
		// 1, 1, 2: two teams are better than c, so c is 3.
		{"dense ranks after a tie", ranks{"a": 1, "b": 1, "c": 2}, []string{"c"}, "must be 3: 2 teams are ranked better"},
		// 1, 3, 3: one team is better than b and c, so they tie at 2.
		{"a tie that skipped its own place", ranks{"a": 1, "b": 3, "c": 3}, []string{"b", "c"}, "must be 2: 1 team is ranked better"},
		// 2, 2: nobody is better, so both are 1.
		{"nobody first", ranks{"a": 2, "b": 2}, []string{"a", "b"}, "must be 1: 0 teams are ranked better"},
	} {
		p := CheckRanks(c.ranks)
		got := slices.Sorted(maps.Keys(p))
		if !slices.Equal(got, c.bad) && !(len(got) == 0 && len(c.bad) == 0) {
			t.Errorf("%s: problems with %v, want %v (%v)", c.name, got, c.bad, p)
			continue
		}
		if len(c.bad) > 0 {
			if msg := p[c.bad[0]]; !strings.Contains(msg, c.says) {
				t.Errorf("%s: %q does not say %q", c.name, msg, c.says)
			}
			if !errors.Is(p, ErrInvalid) {
				t.Errorf("%s: the problems do not wrap ErrInvalid", c.name)
			}
		}
	}
}

// R4.7 grade clauses, tried in order (A, B, D, C), at their boundaries.
func TestR4_7_GradeOf(t *testing.T) {
	for _, c := range []struct {
		name               string
		rank, worst, total int
		want               Grade
	}{
		{"best", 1, 8, 10, A},
		{"only team: best before worst", 1, 1, 3, A},
		{"third with exactly 92", 3, 8, 92, A},
		{"third with 91", 3, 8, 91, C},
		{"second", 2, 8, 80, B},
		{"second with 92 or more is an A", 2, 8, 105, A},
		{"second of two, below 35: B before D", 2, 2, 2, B},
		{"worst below 35", 8, 8, 34, D},
		{"worst with exactly 35", 8, 8, 35, C},
		{"below 35 but not the worst", 7, 8, 23, C},
		{"tied worst below 35", 3, 3, 2, D},
	} {
		if got := GradeOf(c.rank, c.worst, c.total); got != c.want {
			t.Errorf("%s: GradeOf(rank %d, worst %d, total %d) = %s, want %s", c.name, c.rank, c.worst, c.total, got, c.want)
		}
	}
}

// want is a standing written out by hand: team, total, rank, grade.
type want struct {
	team        string
	total, rank int
	grade       Grade
}

func checkMonth(t *testing.T, name string, items []Item, teams []string, wants []want) {
	t.Helper()
	m, err := Tally(items)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !slices.Equal(m.Teams, teams) {
		t.Errorf("%s: teams %v, want %v", name, m.Teams, teams)
	}
	if len(m.Standings) != len(wants) {
		t.Fatalf("%s: %d standings, want %d: %+v", name, len(m.Standings), len(wants), m.Standings)
	}
	for i, w := range wants {
		s := m.Standings[i]
		if s.TeamID != w.team || s.Total != w.total || s.Rank != w.rank || s.Grade != w.grade {
			t.Errorf("%s: standing %d is %s total %d rank %d grade %s, want %s %d %d %s",
				name, i+1, s.TeamID, s.Total, s.Rank, s.Grade, w.team, w.total, w.rank, w.grade)
		}
	}
}

// byOrder ranks teams in the order given, 1 to n, no ties.
func byOrder(teams ...string) map[string]int {
	out := map[string]int{}
	for i, team := range teams {
		out[team] = i + 1
	}
	return out
}

// Seed 001's month: 8 teams, six items of levels 1, 1, 1, 2, 3, 4 (n = 8,
// so rank r earns level x (9 - r)). Worked by hand:
//
//	item          level  order                   points (a..h)
//	visits        1      a b c d e f g h         a8 b7 c6 d5 e4 f3 g2 h1
//	boards        1      a c b d e f h g         a8 c7 b6 d5 e4 f3 h2 g1
//	training      1      b a c d e f g h         b8 a7 c6 d5 e4 f3 g2 h1
//	repairs       2      a b c d e f g h         a16 b14 c12 d10 e8 f6 g4 h2
//	records       3      a b c d e f g h         a24 b21 c18 d15 e12 f9 g6 h3
//	satisfaction  4      a b c d e f g h         a32 b28 c24 d20 e16 f12 g8 h4
//
//	a 8+8+7+16+24+32 = 95   rank 1  A (best; also >= 92)
//	b 7+6+8+14+21+28 = 84   rank 2  B (second)
//	c 6+7+6+12+18+24 = 73   rank 3  C
//	d 5+5+5+10+15+20 = 60   rank 4  C
//	e 4+4+4+ 8+12+16 = 48   rank 5  C
//	f 3+3+3+ 6+ 9+12 = 36   rank 6  C
//	g 2+1+2+ 4+ 6+ 8 = 23   rank 7  C (below 35, but not the worst)
//	h 1+2+1+ 2+ 3+ 4 = 13   rank 8  D (the worst, below 35)
//
// Check: the points of an item add up to level x 36 (1 + ... + 8), so the
// month's to 12 x 36 = 432 = 95+84+73+60+48+36+23+13.
func TestR4_7_SeedMonthOfEightTeams(t *testing.T) {
	items := []Item{
		{ID: "visits", Level: 1, Ranks: byOrder("a", "b", "c", "d", "e", "f", "g", "h")},
		{ID: "boards", Level: 1, Ranks: byOrder("a", "c", "b", "d", "e", "f", "h", "g")},
		{ID: "training", Level: 1, Ranks: byOrder("b", "a", "c", "d", "e", "f", "g", "h")},
		{ID: "repairs", Level: 2, Ranks: byOrder("a", "b", "c", "d", "e", "f", "g", "h")},
		{ID: "records", Level: 3, Ranks: byOrder("a", "b", "c", "d", "e", "f", "g", "h")},
		{ID: "satisfaction", Level: 4, Ranks: byOrder("a", "b", "c", "d", "e", "f", "g", "h")},
	}
	checkMonth(t, "seed month", items, []string{"a", "b", "c", "d", "e", "f", "g", "h"}, []want{
		{"a", 95, 1, A}, {"b", 84, 2, B}, {"c", 73, 3, C}, {"d", 60, 4, C},
		{"e", 48, 5, C}, {"f", 36, 6, C}, {"g", 23, 7, C}, {"h", 13, 8, D},
	})
	m, _ := Tally(items)
	if got := m.Standings[0].Points; got["training"] != 7 || got["satisfaction"] != 32 || len(got) != 6 {
		t.Errorf("a's points by item: %v", got)
	}
}

// Several A by total: 8 teams, four level-4 items, the same order in each
// (n = 8, rank r earns 4 x (9 - r) per item, so 16 x (9 - r) in all):
//
//	a 16 x 8 = 128  rank 1  A
//	b 16 x 7 = 112  rank 2  A (>= 92 comes before "second": nobody is B)
//	c 16 x 6 =  96  rank 3  A (>= 92)
//	d 16 x 5 =  80  rank 4  C
//	e 64, f 48      C
//	g 16 x 2 =  32  rank 7  C (below 35, not the worst)
//	h 16 x 1 =  16  rank 8  D
func TestR4_7_SeveralAByTotal(t *testing.T) {
	order := byOrder("a", "b", "c", "d", "e", "f", "g", "h")
	var items []Item
	for _, id := range []string{"i1", "i2", "i3", "i4"} {
		items = append(items, Item{ID: id, Level: 4, Ranks: order})
	}
	checkMonth(t, "four level-4 items", items, []string{"a", "b", "c", "d", "e", "f", "g", "h"}, []want{
		{"a", 128, 1, A}, {"b", 112, 2, A}, {"c", 96, 3, A}, {"d", 80, 4, C},
		{"e", 64, 5, C}, {"f", 48, 6, C}, {"g", 32, 7, C}, {"h", 16, 8, D},
	})
}

// Ties, within items and on totals, worked by hand.
func TestR4_7_Ties(t *testing.T) {
	// Within an item, 4 teams: a level-2 item ranked a 1, b 2, c 2, d 4
	// gives a 2x4 = 8, b and c 2x3 = 6 each (the better rank's points),
	// d 2x1 = 2; a level-1 item with all four tied gives each 1x4 = 4.
	//	a 8+4 = 12 rank 1 A;  b, c 6+4 = 10 rank 2 B (both second);
	//	d 2+4 = 6 rank 4 D (worst, below 35)
	checkMonth(t, "tied in an item", []Item{
		{ID: "repairs", Level: 2, Ranks: map[string]int{"a": 1, "b": 2, "c": 2, "d": 4}},
		{ID: "visits", Level: 1, Ranks: map[string]int{"a": 1, "b": 1, "c": 1, "d": 1}},
	}, []string{"a", "b", "c", "d"}, []want{{"a", 12, 1, A}, {"b", 10, 2, B}, {"c", 10, 2, B}, {"d", 6, 4, D}})

	// Tied for best on total, 3 teams, two level-1 items:
	//	item 1: a 1, b 2, c 3 -> a 3, b 2, c 1
	//	item 2: b 1, a 2, c 3 -> b 3, a 2, c 1
	//	a 5, b 5: both rank 1, both A; nobody is second (no B);
	//	c 2: rank 3, the worst, below 35: D
	checkMonth(t, "tied best", []Item{
		{ID: "i1", Level: 1, Ranks: byOrder("a", "b", "c")},
		{ID: "i2", Level: 1, Ranks: byOrder("b", "a", "c")},
	}, []string{"a", "b", "c"}, []want{{"a", 5, 1, A}, {"b", 5, 1, A}, {"c", 2, 3, D}})

	// Tied worst, 4 teams, one level-1 item ranked a 1, b 2, c 3, d 3:
	//	a 4 A; b 3 B; c, d 1x2 = 2 each, both rank 3 = the worst, below 35: D
	checkMonth(t, "tied worst", []Item{
		{ID: "i1", Level: 1, Ranks: map[string]int{"a": 1, "b": 2, "c": 3, "d": 3}},
	}, []string{"a", "b", "c", "d"}, []want{{"a", 4, 1, A}, {"b", 3, 2, B}, {"c", 2, 3, D}, {"d", 2, 3, D}})
}

// One team and two teams: the smallest months.
func TestR4_7_OneAndTwoTeams(t *testing.T) {
	// One team, a level-3 item: 3 x (1 + 1 - 1) = 3. Best and worst at
	// once, below 35: best comes first, A.
	checkMonth(t, "one team", []Item{{ID: "i1", Level: 3, Ranks: byOrder("a")}},
		[]string{"a"}, []want{{"a", 3, 1, A}})
	// Two teams, a level-2 item: a 2x2 = 4 A; b 2x1 = 2, second and worst
	// and below 35: "second" comes before "worst", B.
	checkMonth(t, "two teams", []Item{{ID: "i1", Level: 2, Ranks: byOrder("a", "b")}},
		[]string{"a", "b"}, []want{{"a", 4, 1, A}, {"b", 2, 2, B}})
	// Two teams tied: 2x2 = 4 each, both best, both A.
	checkMonth(t, "two teams tied", []Item{{ID: "i1", Level: 2, Ranks: map[string]int{"a": 1, "b": 1}}},
		[]string{"a", "b"}, []want{{"a", 4, 1, A}, {"b", 4, 1, A}})
}

// The worst team at the 35 boundary, 3 teams, the same order in every item
// (n = 3: rank 1 earns 3 x level, rank 2 2 x level, rank 3 1 x level):
//
//	eight level-4 items and a level-3 item: levels add up to 35, so
//	a 105 A, b 70 B, c 35: the worst but not below 35, C
//	eight level-4 items and a level-2 item: 34, so a 102 A, b 68 B, c 34 D
func TestR4_7_WorstAtThe35Boundary(t *testing.T) {
	month := func(last int) []Item {
		var items []Item
		for i := range 8 {
			items = append(items, Item{ID: string(rune('p' + i)), Level: 4, Ranks: byOrder("a", "b", "c")})
		}
		return append(items, Item{ID: "z", Level: last, Ranks: byOrder("a", "b", "c")})
	}
	checkMonth(t, "levels add up to 35", month(3), []string{"a", "b", "c"}, []want{{"a", 105, 1, A}, {"b", 70, 2, B}, {"c", 35, 3, C}})
	checkMonth(t, "levels add up to 34", month(2), []string{"a", "b", "c"}, []want{{"a", 102, 1, A}, {"b", 68, 2, B}, {"c", 34, 3, D}})
}

// Items not yet ranked count for nothing; no ranked item, no standings.
func TestR4_7_UnrankedItems(t *testing.T) {
	m, err := Tally([]Item{{ID: "visits", Level: 2}})
	if err != nil || m.Teams != nil || m.Standings != nil {
		t.Fatalf("only an unranked item: %+v %v", m, err)
	}
	checkMonth(t, "one ranked, one not", []Item{
		{ID: "visits", Level: 2},
		{ID: "repairs", Level: 1, Ranks: byOrder("b", "a")},
	}, []string{"a", "b"}, []want{{"b", 2, 1, A}, {"a", 1, 2, B}})
}

func TestR4_7_TallyRefusesInvalidMonths(t *testing.T) {
	for _, c := range []struct {
		name  string
		items []Item
		says  string
	}{
		{"level 5", []Item{{ID: "x", Level: 5, Ranks: byOrder("a")}}, "level 5"},
		{"level 0, unranked", []Item{{ID: "x", Level: 0}}, "level 0"},
		{"bad ranks", []Item{{ID: "x", Level: 1, Ranks: map[string]int{"a": 1, "b": 1, "c": 2}}}, "must be 3"},
		{"items rank different teams", []Item{
			{ID: "x", Level: 1, Ranks: byOrder("a", "b")},
			{ID: "y", Level: 1, Ranks: byOrder("a", "c")},
		}, "every item ranks the month's teams"},
	} {
		_, err := Tally(c.items)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", c.name, err, c.says)
		}
	}
}

// R4.7 "E at the manager's call": only in place of a D.
func TestR4_7_ManagersCall(t *testing.T) {
	for _, c := range []struct {
		computed, call, want Grade
	}{
		{D, E, E}, {D, D, D}, {D, "", D},
		{C, E, C}, // a call on a team no longer graded D has no effect
		{A, E, A},
	} {
		if got := WithCall(c.computed, c.call); got != c.want {
			t.Errorf("WithCall(%s, %q) = %s, want %s", c.computed, c.call, got, c.want)
		}
	}
	for g, ok := range map[Grade]bool{A: false, B: false, C: false, D: true, E: false} {
		if MayCall(g) != ok {
			t.Errorf("MayCall(%s) = %v", g, !ok)
		}
	}
}

// R4.7 member bands: A or B team -> A to C; C -> B to D; D (and E, a D at
// the manager's call) -> C to E. Out-of-band grades are clamped to the
// band's nearer end.
func TestR4_7_MemberBands(t *testing.T) {
	for _, c := range []struct {
		team  Grade
		band  string
		clamp map[Grade]Grade // member -> clamped
	}{
		{A, "ABC", map[Grade]Grade{A: A, B: B, C: C, D: C, E: C}},
		{B, "ABC", map[Grade]Grade{A: A, C: C, E: C}},
		{C, "BCD", map[Grade]Grade{A: B, B: B, C: C, D: D, E: D}},
		{D, "CDE", map[Grade]Grade{A: C, B: C, C: C, D: D, E: E}},
		{E, "CDE", map[Grade]Grade{A: C, E: E}},
	} {
		gs, err := MemberGrades(c.team)
		if err != nil {
			t.Fatal(err)
		}
		var band strings.Builder
		for _, g := range gs {
			band.WriteString(string(g))
		}
		if band.String() != c.band {
			t.Errorf("band of a %s team: %s, want %s", c.team, band.String(), c.band)
		}
		for member, want := range c.clamp {
			got, err := ClampMember(c.team, member)
			if err != nil || got != want {
				t.Errorf("ClampMember(%s team, %s) = %s %v, want %s", c.team, member, got, err, want)
			}
			inBand := strings.Contains(c.band, string(member))
			if err := CheckMember(c.team, member); (err == nil) != inBand || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("CheckMember(%s team, %s) = %v, want in band %v", c.team, member, err, inBand)
			}
		}
	}
	if _, err := ClampMember("F", A); !errors.Is(err, ErrInvalid) {
		t.Errorf("a team graded F: %v", err)
	}
	if _, err := ClampMember(A, "a"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a member graded a: %v", err)
	}
}
