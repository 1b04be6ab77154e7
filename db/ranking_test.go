package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/aftersales/db"
	"github.com/acme/aftersales/demo"
	"github.com/acme/aftersales/internal/pgtest"
)

// R4.7: the schema (migration 00017) stores nothing package ranking would
// refuse, whatever writes it: each case is one transaction through the
// generated queries, refused at its statement or at commit (the deferred
// month check), and leaves the valid month as it was.
func TestR4_7_SchemaRefusesInvalidRankings(t *testing.T) {
	pool := pgtest.New(t)
	ctx := context.Background()
	if err := demo.Seed(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO teams (id, name, department_id) VALUES ('team-c', 'Team C', 'aftersales')`); err != nil {
		t.Fatal(err)
	}
	// put writes an item as the server does: ranks out, item, ranks in.
	put := func(q *db.Queries, item string, level int16, teams []string, ranks []int16) error {
		n := int16(len(teams))
		if err := q.DeleteRankingRanks(ctx, db.DeleteRankingRanksParams{Month: "2026-11", Item: item}); err != nil {
			return err
		}
		if _, err := q.UpsertRankingItem(ctx, db.UpsertRankingItemParams{Month: "2026-11", Item: item, Name: item, Level: level,
			Teams: n, UpdatedBy: "hr1"}); err != nil {
			return err
		}
		return q.InsertRankingRanks(ctx, db.InsertRankingRanksParams{Month: "2026-11", Item: item, Teams: n, TeamIds: teams, Ranks: ranks})
	}
	tx := func(f func(q *db.Queries) error) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return f(db.New(tx)) })
	}
	ab := []string{"team-a", "team-b"}
	if err := tx(func(q *db.Queries) error { return put(q, "visits", 2, ab, []int16{1, 2}) }); err != nil {
		t.Fatalf("a valid item: %v", err)
	}
	if err := tx(func(q *db.Queries) error { return put(q, "boards", 1, ab, []int16{1, 1}) }); err != nil {
		t.Fatalf("a valid tie: %v", err)
	}
	abc := []string{"team-a", "team-b", "team-c"}
	for _, c := range []struct {
		name  string
		write func(q *db.Queries) error
	}{
		{"level 5", func(q *db.Queries) error { return put(q, "x", 5, ab, []int16{1, 2}) }},
		{"level 0", func(q *db.Queries) error { return put(q, "x", 0, ab, []int16{1, 2}) }},
		{"rank beyond n", func(q *db.Queries) error { return put(q, "x", 1, ab, []int16{1, 3}) }},
		{"rank 0", func(q *db.Queries) error { return put(q, "x", 1, ab, []int16{0, 1}) }},
		{"a bad item id", func(q *db.Queries) error { return put(q, "-x", 1, ab, []int16{1, 2}) }},
		{"an unknown team", func(q *db.Queries) error { return put(q, "x", 1, []string{"team-a", "team-z"}, []int16{1, 2}) }},
		{"nobody first", func(q *db.Queries) error { return put(q, "x", 1, ab, []int16{2, 2}) }},
		{"dense ranks after a tie (1, 1, 2)", func(q *db.Queries) error {
			return put(q, "x", 1, abc, []int16{1, 1, 2})
		}},
		{"other teams than the month's items", func(q *db.Queries) error {
			return put(q, "x", 1, []string{"team-a", "team-c"}, []int16{1, 2})
		}},
		{"fewer ranks than n", func(q *db.Queries) error {
			if _, err := q.UpsertRankingItem(ctx, db.UpsertRankingItemParams{Month: "2026-11", Item: "x", Name: "x", Level: 1,
				Teams: 2, UpdatedBy: "hr1"}); err != nil {
				return err
			}
			return q.InsertRankingRanks(ctx, db.InsertRankingRanksParams{Month: "2026-11", Item: "x", Teams: 2,
				TeamIds: []string{"team-a"}, Ranks: []int16{1}})
		}},
		{"a bad month", func(q *db.Queries) error {
			_, err := q.UpsertRankingItem(ctx, db.UpsertRankingItemParams{Month: "2026-13", Item: "x", Name: "x", Level: 1, UpdatedBy: "hr1"})
			return err
		}},
		{"a call of C", func(q *db.Queries) error {
			return q.InsertTeamGradeCall(ctx, db.InsertTeamGradeCallParams{Month: "2026-11", TeamID: "team-b", Grade: "C",
				Reason: "r", CalledBy: "manager1"})
		}},
		{"a call without a reason", func(q *db.Queries) error {
			return q.InsertTeamGradeCall(ctx, db.InsertTeamGradeCallParams{Month: "2026-11", TeamID: "team-b", Grade: "E",
				Reason: " ", CalledBy: "manager1"})
		}},
	} {
		err := tx(c.write)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || !strings.HasPrefix(pe.Code, "23") {
			t.Errorf("%s: %v, want an integrity violation (class 23)", c.name, err)
		}
	}
	items, err := db.New(pool).RankingItems(ctx, "2026-11")
	if err != nil || len(items) != 2 {
		t.Fatalf("the valid month after the refusals: %v %v", items, err)
	}

	// The logs are append-only (R7).
	q := db.New(pool)
	if err := q.LogRankingItem(ctx, db.LogRankingItemParams{Month: "2026-11", Item: "visits", Action: "delete", ActorID: "hr1"}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertTeamGradeCall(ctx, db.InsertTeamGradeCallParams{Month: "2026-11", TeamID: "team-b", Grade: "E",
		Reason: "r", CalledBy: "manager1"}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`UPDATE ranking_item_log SET actor_id = 'hr1'`, `DELETE FROM team_grade_calls`, `TRUNCATE ranking_item_log`} {
		if _, err := pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want append-only", sql, err)
		}
	}
	// Deleting an item takes its ranks along and leaves a valid month.
	if n, err := q.DeleteRankingItem(ctx, db.DeleteRankingItemParams{Month: "2026-11", Item: "visits"}); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	if ranks, _ := q.RankingRanks(ctx, "2026-11"); len(ranks) != 2 {
		t.Errorf("ranks after deleting visits: %v", ranks)
	}
}
