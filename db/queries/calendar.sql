-- name: ListCalendarOverrides :many
SELECT day, working, note, updated_by, updated_at FROM calendar_overrides ORDER BY day;

-- name: GetCalendarOverride :one
SELECT day, working, note, updated_by, updated_at FROM calendar_overrides WHERE day = $1;

-- name: UpsertCalendarOverride :one
-- xmax = 0 tells an insert from an update, so PUT can answer 201 or 200.
INSERT INTO calendar_overrides (day, working, note, updated_by, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (day) DO UPDATE
SET working = excluded.working, note = excluded.note, updated_by = excluded.updated_by, updated_at = now()
RETURNING day, working, note, updated_by, updated_at, (xmax = 0) AS created;

-- name: DeleteCalendarOverride :execrows
DELETE FROM calendar_overrides WHERE day = $1;

-- name: LogCalendarOverride :exec
INSERT INTO calendar_override_log (day, action, working, note, actor_id) VALUES ($1, $2, $3, $4, $5);
