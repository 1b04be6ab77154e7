-- Versioned policies (migration 00016; issue 12 item 3) and the reports of
-- recorded recalculations (item 4).

-- name: ListPolicies :many
-- Every version of every kind (or of one kind), newest first, with whether
-- it is the one in force now.
SELECT kind, version, effective_from, body, reason, created_by, created_at,
       (version = policy_in_force(kind, now()))::boolean AS in_force
FROM policies
WHERE sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind)::text
ORDER BY kind, version DESC;

-- name: GetPolicy :one
SELECT kind, version, effective_from, body, reason, created_by, created_at
FROM policies WHERE kind = @kind AND version = @version;

-- name: PolicyInForce :one
-- The version in force at an instant (R2: a case takes the one in force at its start).
SELECT kind, version, effective_from, body, reason, created_by, created_at
FROM policies WHERE kind = @kind AND version = policy_in_force(@kind, @at::timestamptz);

-- name: LatestPolicyForUpdate :one
-- The newest version of a kind, locked: the next version is numbered and
-- dated after it.
SELECT version, effective_from FROM policies WHERE kind = @kind ORDER BY version DESC LIMIT 1 FOR UPDATE;

-- name: InsertPolicy :exec
INSERT INTO policies (kind, version, effective_from, body, reason, created_by)
VALUES (@kind, @version, @effective_from, @body, @reason, @created_by);

-- name: ListRunningComplaints :many
-- The complaints a recalculation may change: open or reopened (their clocks run).
SELECT complaint_no FROM complaints WHERE status IN ('open', 'reopened') ORDER BY complaint_no;

-- name: RecordRecalculation :exec
-- The batch's report (RecordRecalculation activity): the first run's row,
-- progress, then the final report. Idempotent.
INSERT INTO recalculations (id, requested_by, requested_at, reason, policy_version, total, status, report, finished_at)
VALUES (@id, @requested_by, @requested_at, @reason, sqlc.narg(policy_version), @total, @status, @report, sqlc.narg(finished_at))
ON CONFLICT (id) DO UPDATE SET status = excluded.status, report = excluded.report, finished_at = excluded.finished_at;

-- name: GetRecalculation :one
SELECT id, requested_by, requested_at, reason, policy_version, total, status, report, finished_at
FROM recalculations WHERE id = @id;

-- name: ListRecalculations :many
SELECT id, requested_by, requested_at, reason, policy_version, total, status, report, finished_at
FROM recalculations ORDER BY requested_at DESC, id DESC LIMIT 50;
