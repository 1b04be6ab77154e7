-- R4.7 team ranking (migration 00017). Every write to a month runs in one
-- transaction that first takes LockRankingMonth, so two people entering
-- items of one month at once cannot both decide the month's teams; the
-- schema's deferred check would refuse the loser's commit otherwise.

-- name: LockRankingMonth :exec
SELECT pg_advisory_xact_lock(hashtextextended('ranking:' || @month::text, 0));

-- name: RankingItems :many
SELECT item, name, level, teams, updated_by, updated_at
FROM ranking_items WHERE month = $1 ORDER BY item;

-- name: RankingRanks :many
SELECT item, team_id, rank FROM ranking_ranks WHERE month = $1 ORDER BY item, rank, team_id;

-- name: UpsertRankingItem :one
-- xmax = 0 tells an insert from an update, so PUT can answer 201 or 200.
INSERT INTO ranking_items (month, item, name, level, teams, updated_by, updated_at)
VALUES (@month, @item, @name, @level, @teams, @updated_by, now())
ON CONFLICT (month, item) DO UPDATE
SET name = excluded.name, level = excluded.level, teams = excluded.teams,
    updated_by = excluded.updated_by, updated_at = now()
RETURNING (xmax = 0) AS created;

-- name: DeleteRankingRanks :exec
-- Before the item's n changes: the ranks' foreign key holds the old n.
DELETE FROM ranking_ranks WHERE month = @month AND item = @item;

-- name: InsertRankingRanks :exec
INSERT INTO ranking_ranks (month, item, teams, team_id, rank)
-- The two arrays are unnested side by side (same length: one rank a team).
SELECT @month, @item, @teams, unnest(@team_ids::text[]), unnest(@ranks::smallint[]);

-- name: DeleteRankingItem :execrows
-- Its ranks go with it (ON DELETE CASCADE).
DELETE FROM ranking_items WHERE month = @month AND item = @item;

-- name: LogRankingItem :exec
INSERT INTO ranking_item_log (month, item, action, name, level, ranks, actor_id)
VALUES (@month, @item, @action, sqlc.narg(name), sqlc.narg(level), sqlc.narg(ranks), @actor_id);

-- name: InsertTeamGradeCall :exec
INSERT INTO team_grade_calls (month, team_id, grade, reason, called_by)
VALUES (@month, @team_id, @grade, @reason, @called_by);

-- name: TeamGradeCalls :many
-- The call in force per team: its newest.
SELECT DISTINCT ON (team_id) team_id, grade, reason, called_by, called_at
FROM team_grade_calls WHERE month = $1
ORDER BY team_id, id DESC;
