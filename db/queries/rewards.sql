-- Rewards (R5): the nomination intake written by POST /rewards, the read
-- model (the approvers' inbox) and audit trail written by the
-- RewardApproval workflow's RecordReward activity, and the one payout of a
-- reward (R5.3).

-- name: InsertRewardIntake :one
-- Creates the nomination (status pending, no step until the workflow's
-- first record); no row (pgx.ErrNoRows) means the number exists: compare
-- GetReward's request_hash to tell a retry from a conflict.
INSERT INTO rewards (nomination_no, request_hash, nominee_id, nominator_id, kind, amount_fen, reason,
                     assessment_id, created_at)
VALUES (@nomination_no, @request_hash, @nominee_id, @nominator_id, @kind, @amount_fen, @reason,
        sqlc.narg(assessment_id), @created_at)
ON CONFLICT (nomination_no) DO NOTHING
RETURNING nomination_no, created_at, policy_version;

-- name: GetReward :one
SELECT nomination_no, request_hash, nominee_id, nominator_id, kind, amount_fen, reason,
       coalesce(assessment_id, '')::text AS assessment_id, created_at, status, step, step_role, awaiting,
       excluded, due_at, step_since, round, needs_committee, approvals, last_seq, updated_at, policy_version
FROM rewards WHERE nomination_no = $1;

-- name: LockReward :one
-- The state a RecordReward replaces, locked for the transaction.
SELECT status, step, round, last_seq, step_since FROM rewards WHERE nomination_no = $1 FOR UPDATE;

-- name: InsertRewardRecord :execrows
-- The first record of a nomination that has no intake row (one not made
-- over HTTP, e.g. a CSI service star, R5.2); 0 rows when it exists.
INSERT INTO rewards (nomination_no, nominee_id, nominator_id, kind, amount_fen, reason, assessment_id, created_at,
                     status, step, step_role, awaiting, excluded, due_at, step_since, round, needs_committee,
                     approvals, last_seq)
VALUES (@nomination_no, @nominee_id, @nominator_id, @kind, @amount_fen, @reason, sqlc.narg(assessment_id),
        @created_at, @status, sqlc.narg(step), @step_role, @awaiting::text[], @excluded::text[], sqlc.narg(due_at),
        sqlc.narg(step_since), @round, @needs_committee, @approvals::jsonb, @last_seq::int)
ON CONFLICT (nomination_no) DO NOTHING;

-- name: UpdateRewardState :execrows
-- The read model of one record. The last_seq guard makes it idempotent and
-- keeps an older (retried) state from overwriting a newer one: 0 rows when
-- the reward is missing or already at this seq or later.
UPDATE rewards SET
    kind = @kind, amount_fen = @amount_fen, reason = @reason,
    status = @status, step = sqlc.narg(step), step_role = @step_role,
    awaiting = @awaiting::text[], excluded = @excluded::text[], due_at = sqlc.narg(due_at),
    step_since = sqlc.narg(step_since), round = @round, needs_committee = @needs_committee,
    approvals = @approvals::jsonb, last_seq = @last_seq::int, updated_at = now()
WHERE nomination_no = @nomination_no AND (last_seq IS NULL OR last_seq < @last_seq::int);

-- name: InsertRewardEvents :many
-- Appends events (parallel arrays, one round trip); returns only the rows
-- that were new, so a retry reports nothing. data is JSON text, '' for none.
INSERT INTO reward_events (nomination_no, seq, type, actor_id, at, reason, data)
SELECT @nomination_no, unnest(@seqs::int[]), unnest(@types::text[]), unnest(@actor_ids::text[]),
       unnest(@ats::timestamptz[]), unnest(@reasons::text[]), nullif(unnest(@datas::text[]), '')::jsonb
ON CONFLICT (nomination_no, seq) DO NOTHING
RETURNING seq, type, at;

-- name: ListRewardEvents :many
SELECT nomination_no, seq, type, actor_id, at, reason, data FROM reward_events
WHERE nomination_no = $1 ORDER BY seq;

-- name: InsertPayout :execrows
-- R5.3: exactly one payout per reward; a retry (or a second record) inserts
-- nothing and reports 0 rows.
INSERT INTO payouts (nomination_no, nominee_id, kind, amount_fen, reference, recorded_by, at)
VALUES (@nomination_no, @nominee_id, @kind, @amount_fen, @reference, @recorded_by, @at)
ON CONFLICT (nomination_no) DO NOTHING;

-- name: GetPayout :one
SELECT nomination_no, nominee_id, kind, amount_fen, reference, recorded_by, at
FROM payouts WHERE nomination_no = $1;

-- name: ActiveUserIDsByRole :many
-- R1: the active holders of a role (who may act on a step given to a role).
SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
WHERE r.role = $1 AND u.active
ORDER BY u.id;

-- name: ListRewards :many
-- GET /api/v1/rewards, the approvers' inbox (R5.3, R7). scope_all: every
-- reward (HR's ?all=true). Otherwise a reward is listed when the caller may
-- act on it now: it is still open (pending, approved or returned) and its
-- step is given to one of the caller's roles (scope_roles) without the
-- caller among excluded, or the caller is among awaiting; plus, with
-- scope_nominator, those the caller nominated. Keyset by (created_at,
-- nomination_no). mine_only: only the rewards the caller is nominated for
-- (anyone's own, R7).
SELECT nomination_no, nominee_id, nominator_id, kind, amount_fen, reason,
       coalesce(assessment_id, '')::text AS assessment_id, created_at, status, step, step_role, awaiting,
       excluded, due_at, round, needs_committee, last_seq, updated_at
FROM rewards
WHERE last_seq IS NOT NULL -- written by its workflow: an interrupted create is not visible (reconcile.go)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (sqlc.narg(step)::text IS NULL OR step = sqlc.narg(step)::text)
  AND (CASE WHEN @mine_only::bool THEN nominee_id = @caller::text
       ELSE (@scope_all::bool
             OR (status IN ('pending', 'approved', 'returned')
                 AND ((step_role <> '' AND step_role = ANY (@scope_roles::text[])
                       AND NOT (@caller::text = ANY (excluded)))
                      OR @caller::text = ANY (awaiting)))
             OR nominator_id = sqlc.narg(scope_nominator)::text) END)
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, nomination_no) > (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_no)::text))
ORDER BY created_at, nomination_no
LIMIT @row_limit;

-- name: CountOverdueRewardSteps :one
-- Open reward steps past their deadline (R5.3), for the reward_steps_overdue gauge.
SELECT count(*) FROM rewards
WHERE status IN ('pending', 'approved') AND due_at IS NOT NULL AND due_at < now();

-- name: ListUnstartedRewards :many
-- Like ListUnstartedComplaints: nominations whose workflow has never
-- written the read model.
SELECT nomination_no, request_hash, nominee_id, nominator_id, kind, amount_fen, reason,
       coalesce(assessment_id, '')::text AS assessment_id, created_at, status, step, step_role, awaiting,
       excluded, due_at, step_since, round, needs_committee, approvals, last_seq, updated_at, policy_version
FROM rewards
WHERE last_seq IS NULL AND created_at < @older_than::timestamptz
ORDER BY created_at
LIMIT @row_limit;
