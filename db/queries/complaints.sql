-- Complaints (R3): intake, the read model kept by the workflow's sync
-- activity, lists, escalations.

-- name: InsertComplaintIntake :one
-- Creates the complaint; no row (pgx.ErrNoRows) means it already exists:
-- compare GetComplaintIntake's request_hash to tell a retry from a conflict.
INSERT INTO complaints (complaint_no, request_hash, customer_name, customer_phone, product, category,
                        description, assignee_id, team_id, received_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (complaint_no) DO NOTHING
RETURNING complaint_no, created_at, policy_version;

-- name: GetComplaintIntake :one
-- What an idempotent create (or a restart of the workflow) needs; no personal data (R7).
SELECT complaint_no, request_hash, assignee_id, team_id, received_at, created_by, created_at, policy_version,
       status, updated_at
FROM complaints WHERE complaint_no = $1;

-- name: UpdateComplaintState :execrows
-- The read model of one sync. The last_seq guard makes it idempotent and
-- keeps an older (retried) state from overwriting a newer one: 0 rows when
-- the complaint is missing or already at this seq or later.
UPDATE complaints SET
    status = @status, assignee_id = @assignee_id, team_id = @team_id,
    resolved_at = @resolved_at, first_time_fix = @first_time_fix, breached = @breached,
    next_due_at = @next_due_at,
    contact_due_at = @contact_due_at, contact_met_at = @contact_met_at,
    plan_due_at = @plan_due_at, plan_met_at = @plan_met_at,
    resolution_due_at = @resolution_due_at, resolution_met_at = @resolution_met_at,
    resolution_paused = @resolution_paused,
    contact_warn_at = @contact_warn_at, contact_level2_at = @contact_level2_at,
    plan_warn_at = @plan_warn_at, plan_level2_at = @plan_level2_at,
    resolution_warn_at = @resolution_warn_at, resolution_level2_at = @resolution_level2_at,
    counted_for = sqlc.narg(counted_for)::text,
    last_seq = @last_seq::int, updated_at = now()
WHERE complaint_no = @complaint_no AND (last_seq IS NULL OR last_seq < @last_seq::int);

-- name: ComplaintExists :one
SELECT EXISTS (SELECT 1 FROM complaints WHERE complaint_no = $1);

-- name: InsertComplaintEvents :many
-- Appends events (parallel arrays, one round trip); returns only the rows
-- that were new, so a retry reports nothing. data is JSON text, '' for none.
INSERT INTO complaint_events (complaint_no, seq, type, actor_id, at, reason, data)
-- several unnest calls in one select list advance together (PostgreSQL >= 10)
SELECT @complaint_no, unnest(@seqs::int[]), unnest(@types::text[]), unnest(@actor_ids::text[]),
       unnest(@ats::timestamptz[]), unnest(@reasons::text[]), nullif(unnest(@datas::text[]), '')::jsonb
ON CONFLICT (complaint_no, seq) DO NOTHING
RETURNING seq, type, at, data;

-- name: ListComplaintEvents :many
SELECT complaint_no, seq, type, actor_id, at, reason, data
FROM complaint_events WHERE complaint_no = $1 ORDER BY seq;

-- name: InsertEscalation :execrows
-- R3: exactly once per (complaint, clock, level); a repeat changes nothing
-- (in particular never an acknowledgement).
-- The team is the complaint's current one (its row is written first in
-- the same transaction), whatever the order syncs arrive in.
INSERT INTO escalations (id, complaint_no, clock, level, escalated_at, escalated_to, team_id)
SELECT @id, @complaint_no, @clock, @level, @escalated_at, @escalated_to::text[], c.team_id
FROM complaints c WHERE c.complaint_no = @complaint_no
ON CONFLICT DO NOTHING;

-- name: FollowComplaintTeam :exec
-- After a reassignment, a complaint's escalations follow it to its new
-- team (the manager's list, ListEscalations).
UPDATE escalations e SET team_id = c.team_id
FROM complaints c
WHERE c.complaint_no = @complaint_no AND e.complaint_no = c.complaint_no AND e.team_id <> c.team_id;

-- name: InsertDeductionProposal :execrows
-- R3, R4.4: at most one proposal per complaint (UNIQUE source_complaint_no).
INSERT INTO deductions (employee_id, reason_code, points, occurred_at, note, source_complaint_no, proposed_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (source_complaint_no) DO NOTHING;

-- name: GetDeductionByComplaint :one
SELECT * FROM deductions WHERE source_complaint_no = sqlc.arg(complaint_no)::text;

-- name: InsertSurvey :execrows
-- R4.1: one survey per resolution; a repeat changes nothing.
INSERT INTO surveys (complaint_no, resolution, employee_id, attitude, speed, quality, parts, cost,
                     score, surveyed_at, recorded_by)
VALUES (@complaint_no, @resolution, @employee_id, @attitude, @speed, @quality, @parts, @cost,
        @score::float8, @surveyed_at, @recorded_by)
ON CONFLICT DO NOTHING;

-- name: CountSurveys :one
SELECT count(*) FROM surveys WHERE complaint_no = $1;

-- name: ListComplaints :many
-- GET /api/v1/complaints. Every filter is optional (NULL = any). team_ids
-- restricts a manager to their teams (NULL = no restriction, R1/R7).
-- due_before: an open clock due before it. Keyset pagination: pass the last
-- row's (received_at, complaint_no) as after_received_at/after_no.
SELECT complaint_no, status, assignee_id, team_id, received_at, resolved_at, first_time_fix,
       breached, next_due_at, contact_due_at, contact_met_at, plan_due_at, plan_met_at,
       resolution_due_at, resolution_met_at, resolution_paused, updated_at, policy_version
FROM complaints
WHERE last_seq IS NOT NULL -- written by its workflow: an interrupted create is not visible (reconcile.go)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (sqlc.narg(assignee_id)::text IS NULL OR assignee_id = sqlc.narg(assignee_id)::text)
  AND (sqlc.narg(team_id)::text IS NULL OR team_id = sqlc.narg(team_id)::text)
  AND (sqlc.narg(breached)::boolean IS NULL OR breached = sqlc.narg(breached)::boolean)
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR next_due_at < sqlc.narg(due_before)::timestamptz)
  AND (sqlc.narg(team_ids)::text[] IS NULL OR team_id = ANY (sqlc.narg(team_ids)::text[]))
  AND (sqlc.narg(after_received_at)::timestamptz IS NULL
       OR (received_at, complaint_no) > (sqlc.narg(after_received_at)::timestamptz, coalesce(sqlc.narg(after_no)::text, '')))
ORDER BY received_at, complaint_no
LIMIT @row_limit;

-- name: ListOpenClocks :many
-- GET /api/v1/clocks and the officers' board: the running clocks (view
-- open_clocks, migration 00013), soonest due first. Filters are optional
-- (NULL = any); team_ids restricts a manager to their teams (R7);
-- due_before keeps clocks due before it (overdue ones included). Keyset
-- pagination on (due_at, complaint_no, clock). Each clock's branch walks
-- its partial index (migration 00011).
SELECT k.complaint_no, k.clock::text AS clock, k.due_at::timestamptz AS due_at, k.warn_at, k.level2_at,
       k.paused::bool AS paused, k.state::text AS state, k.assignee_id, k.team_id, k.received_at
FROM open_clocks k
WHERE (sqlc.narg(assignee_id)::text IS NULL OR k.assignee_id = sqlc.narg(assignee_id)::text)
  AND (sqlc.narg(team_id)::text IS NULL OR k.team_id = sqlc.narg(team_id)::text)
  AND (sqlc.narg(team_ids)::text[] IS NULL OR k.team_id = ANY (sqlc.narg(team_ids)::text[]))
  AND (sqlc.narg(clock)::text IS NULL OR k.clock = sqlc.narg(clock)::text)
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR k.due_at < sqlc.narg(due_before)::timestamptz)
  AND (sqlc.narg(after_due_at)::timestamptz IS NULL
       OR (k.due_at, k.complaint_no, k.clock) > (sqlc.narg(after_due_at)::timestamptz, sqlc.narg(after_no)::text, sqlc.narg(after_clock)::text))
ORDER BY k.due_at, k.complaint_no, k.clock
LIMIT @row_limit;

-- name: CountOpenClocks :many
-- The complaint_open_clocks gauge: running clocks by clock and state.
SELECT clock::text AS clock, state::text AS state, count(*) AS n FROM open_clocks GROUP BY 1, 2;

-- name: CountOpenAppeals :many
-- The appeals_open gauge (R6): open appeals by stage, and how many of them
-- are past their deadline.
SELECT stage, count(*) AS n, count(*) FILTER (WHERE due_at < now()) AS overdue
FROM appeals WHERE status = 'open' GROUP BY stage;

-- name: CountWaitingRewards :many
-- The rewards_waiting gauge (R5.3): open rewards by the step they wait at.
SELECT coalesce(step, '')::text AS step, count(*) AS n
FROM rewards WHERE status IN ('pending', 'approved', 'returned') GROUP BY 1;

-- name: ListEscalations :many
-- GET /api/v1/escalations: oldest first. open_only = unacknowledged only.
-- A manager (team_ids not NULL) sees escalations of their teams' complaints
-- and those escalated to them (recipient). Keyset by (escalated_at, id).
-- The manager's set is found through indexes (escalations by team, the GIN
-- index of escalated_to; migration 00008) rather than by walking every
-- escalation and testing each.
SELECT e.id, e.complaint_no, e.clock, e.level, e.escalated_at, e.escalated_to,
       e.acknowledged_at, e.acknowledged_by, e.ack_note, c.team_id, c.assignee_id
FROM escalations e
JOIN complaints c ON c.complaint_no = e.complaint_no
WHERE (NOT @open_only::boolean OR e.acknowledged_at IS NULL)
  AND (sqlc.narg(team_ids)::text[] IS NULL OR e.team_id = ANY (sqlc.narg(team_ids)::text[])
       OR e.escalated_to @> ARRAY[sqlc.narg(recipient)::text])
  AND (sqlc.narg(after_escalated_at)::timestamptz IS NULL
       OR (e.escalated_at, e.id) > (sqlc.narg(after_escalated_at)::timestamptz, coalesce(sqlc.narg(after_id)::text, '')))
ORDER BY e.escalated_at, e.id
LIMIT @row_limit;

-- name: GetEscalation :one
-- One escalation with its complaint's team and assignee (for authorization).
SELECT e.id, e.complaint_no, e.clock, e.level, e.escalated_at, e.escalated_to,
       e.acknowledged_at, e.acknowledged_by, e.ack_note, c.team_id, c.assignee_id
FROM escalations e
JOIN complaints c ON c.complaint_no = e.complaint_no
WHERE e.id = $1;

-- name: AckEscalation :one
-- R3: acknowledges an open escalation. No row (pgx.ErrNoRows) when it does
-- not exist or is already acknowledged: the first acknowledgement is never
-- changed; GetEscalation shows it.
UPDATE escalations SET acknowledged_at = now(), acknowledged_by = @acknowledged_by, ack_note = @ack_note
WHERE id = @id AND acknowledged_at IS NULL
RETURNING id, complaint_no, clock, level, escalated_at, escalated_to, acknowledged_at, acknowledged_by, ack_note;

-- name: CountOpenEscalations :one
SELECT count(*) FROM escalations WHERE acknowledged_at IS NULL;

-- name: GetComplaintReadModel :one
-- A closed complaint whose workflow history is past retention is answered
-- from here. No personal data. Only once its workflow has written it: an
-- interrupted create is not visible (reconcile.go).
SELECT complaint_no, status, assignee_id, team_id, received_at, resolved_at, first_time_fix,
       breached, next_due_at, contact_due_at, contact_met_at, plan_due_at, plan_met_at,
       resolution_due_at, resolution_met_at, resolution_paused, updated_at, policy_version
FROM complaints WHERE complaint_no = $1 AND last_seq IS NOT NULL;

-- name: ListComplaintEscalations :many
SELECT id, complaint_no, clock, level, escalated_at, escalated_to, acknowledged_at, acknowledged_by, ack_note
FROM escalations WHERE complaint_no = $1 ORDER BY escalated_at, id;

-- name: ListUnstartedComplaints :many
-- Intake rows older than @older_than whose workflow has never written the
-- read model: creates interrupted between the intake write and the
-- workflow start (or whose workflow has not run yet). The reconciler
-- (server/reconcile.go) starts them; starting is idempotent.
SELECT complaint_no, request_hash, assignee_id, team_id, received_at, created_by, created_at, policy_version,
       status, updated_at
FROM complaints
WHERE last_seq IS NULL AND created_at < @older_than::timestamptz
ORDER BY created_at
LIMIT @row_limit;
