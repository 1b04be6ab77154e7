-- The lists of deductions and appeals and the R7 reports (issue 10).
--
-- R7 scope, the same in every query here: scope_teams NULL = everything
-- (hr, escalation officers); otherwise the rows of people in those teams (a
-- manager's; may be empty) plus the caller's own (scope_self, NULL for
-- none). "A person's team" is their team now (users.team_id), as for the
-- Access rules of the single-item routes (deductions/{id}, appeals/{id}),
-- except where a row keeps the team it was made in (an assessment's team).

-- name: ListDeductions :many
-- GET /api/v1/deductions. Every filter is optional (NULL = any); the month
-- is [occurred_from, occurred_until) in the calendar's zone (R4.0).
-- Keyset by (occurred_at, id).
SELECT d.id, d.employee_id, coalesce(u.team_id, '')::text AS team_id, d.reason_code, d.points, d.status,
       d.occurred_at, d.note, d.source_complaint_no, d.proposed_by, d.created_at, d.decided_by, d.decided_at,
       d.decision_note
FROM deductions d
JOIN users u ON u.id = d.employee_id
WHERE (sqlc.narg(employee_id)::text IS NULL OR d.employee_id = sqlc.narg(employee_id)::text)
  AND (sqlc.narg(team_id)::text IS NULL OR u.team_id = sqlc.narg(team_id)::text)
  AND (sqlc.narg(status)::text IS NULL OR d.status = sqlc.narg(status)::text)
  AND (sqlc.narg(occurred_from)::timestamptz IS NULL OR d.occurred_at >= sqlc.narg(occurred_from)::timestamptz)
  AND (sqlc.narg(occurred_until)::timestamptz IS NULL OR d.occurred_at < sqlc.narg(occurred_until)::timestamptz)
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR u.team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR d.employee_id = sqlc.narg(scope_self)::text)
  AND (sqlc.narg(after_occurred_at)::timestamptz IS NULL
       OR (d.occurred_at, d.id) > (sqlc.narg(after_occurred_at)::timestamptz, coalesce(sqlc.narg(after_id)::bigint, 0)))
ORDER BY d.occurred_at, d.id
LIMIT @row_limit;

-- name: ListAppeals :many
-- GET /api/v1/appeals. Every filter is optional (NULL = any); month is the
-- month of the result appealed against. Keyset by (opened_at, id).
SELECT a.id, a.assessment_id, a.month, a.appellant_id, coalesce(u.team_id, '')::text AS team_id, a.stage,
       a.status, a.due_at, a.escalated_at, a.opened_at, a.decided_at, a.decided_by, a.outcome_reason,
       a.original_score, a.corrected_score
FROM appeals a
JOIN users u ON u.id = a.appellant_id
WHERE (sqlc.narg(stage)::int IS NULL OR a.stage = sqlc.narg(stage)::int)
  AND (sqlc.narg(status)::text IS NULL OR a.status = sqlc.narg(status)::text)
  AND (sqlc.narg(month)::text IS NULL OR a.month = sqlc.narg(month)::text)
  AND (sqlc.narg(appellant_id)::text IS NULL OR a.appellant_id = sqlc.narg(appellant_id)::text)
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR u.team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR a.appellant_id = sqlc.narg(scope_self)::text)
  AND (sqlc.narg(after_opened_at)::timestamptz IS NULL
       OR (a.opened_at, a.id) > (sqlc.narg(after_opened_at)::timestamptz, coalesce(sqlc.narg(after_id)::text, '')))
ORDER BY a.opened_at, a.id
LIMIT @row_limit;

-- name: TimelinessByAgent :many
-- R7 monthly timeliness: the complaints received in [month_start,
-- month_end), per agent: each clock's standing at as_of and the complaint's
-- verdict, both by the functions the assessment uses (migration 00012). A
-- complaint is the agent's it counts for in the assessment (R4.0:
-- counted_for, else the current assignee); the agent's team is their team
-- now. Timely: resolved with no clock missed; untimely: a clock missed;
-- the rest are still pending.
WITH c AS (
    SELECT coalesce(counted_for, assignee_id) AS agent_id, resolved_at,
           clock_standing(contact_due_at, contact_met_at, true, @as_of::timestamptz) AS contact,
           clock_standing(plan_due_at, plan_met_at, true, @as_of::timestamptz) AS plan,
           clock_standing(resolution_due_at, resolution_met_at, NOT resolution_paused, @as_of::timestamptz) AS resolution,
           complaint_first_miss(contact_due_at, contact_met_at, plan_due_at, plan_met_at,
                                resolution_due_at, resolution_met_at, resolution_paused,
                                @as_of::timestamptz) AS first_miss
    FROM complaints
    WHERE last_seq IS NOT NULL -- written by its workflow (reconcile.go)
      AND received_at >= @month_start::timestamptz AND received_at < @month_end::timestamptz
)
SELECT c.agent_id, coalesce(u.team_id, '')::text AS team_id,
       count(*)::int AS received,
       (count(*) FILTER (WHERE contact = 'on_time'))::int AS contact_on_time,
       (count(*) FILTER (WHERE contact = 'late'))::int AS contact_late,
       (count(*) FILTER (WHERE contact = 'overdue'))::int AS contact_overdue,
       (count(*) FILTER (WHERE contact = 'open'))::int AS contact_open,
       (count(*) FILTER (WHERE plan = 'on_time'))::int AS plan_on_time,
       (count(*) FILTER (WHERE plan = 'late'))::int AS plan_late,
       (count(*) FILTER (WHERE plan = 'overdue'))::int AS plan_overdue,
       (count(*) FILTER (WHERE plan = 'open'))::int AS plan_open,
       (count(*) FILTER (WHERE resolution = 'on_time'))::int AS resolution_on_time,
       (count(*) FILTER (WHERE resolution = 'late'))::int AS resolution_late,
       (count(*) FILTER (WHERE resolution = 'overdue'))::int AS resolution_overdue,
       (count(*) FILTER (WHERE resolution = 'open'))::int AS resolution_open,
       (count(*) FILTER (WHERE first_miss IS NULL AND resolved_at IS NOT NULL))::int AS timely,
       (count(*) FILTER (WHERE first_miss IS NOT NULL))::int AS untimely
FROM c
JOIN users u ON u.id = c.agent_id
WHERE sqlc.narg(scope_teams)::text[] IS NULL OR u.team_id = ANY (sqlc.narg(scope_teams)::text[])
   OR c.agent_id = sqlc.narg(scope_self)::text
GROUP BY c.agent_id, u.team_id
ORDER BY c.agent_id;

-- name: CSIRanking :many
-- R7 CSI ranking of a month (R4.4 results, corrected scores included):
-- ranks among everyone assessed that month and within the result's team
-- (equal scores share a rank: 1, 1, 3), then scoped.
WITH ranked AS (
    SELECT employee_id, coalesce(team_id, '')::text AS team_id, score, band, status,
           rank() OVER (ORDER BY score DESC) AS rank,
           count(*) OVER () AS ranked,
           rank() OVER (PARTITION BY team_id ORDER BY score DESC) AS team_rank
    FROM assessments
    WHERE month = @month::text
)
SELECT employee_id, team_id, score, band, status, rank::int AS rank, ranked::int AS ranked,
       team_rank::int AS team_rank
FROM ranked
WHERE sqlc.narg(scope_teams)::text[] IS NULL OR team_id = ANY (sqlc.narg(scope_teams)::text[])
   OR employee_id = sqlc.narg(scope_self)::text
ORDER BY rank, employee_id;

-- name: CSITeamRanking :many
-- R7: the teams of a month, each the average of its members' results
-- (total / members, rounded by the caller), ranked among all teams by that
-- average, then scoped to scope_teams (NULL = all).
WITH teams AS (
    SELECT team_id, sum(score) AS total, count(*) AS members,
           rank() OVER (ORDER BY avg(score) DESC) AS rank,
           count(*) OVER () AS ranked
    FROM assessments
    WHERE month = @month::text AND team_id IS NOT NULL
    GROUP BY team_id
)
SELECT team_id::text AS team_id, total::numeric AS total, members::int AS members, rank::int AS rank,
       ranked::int AS ranked
FROM teams
WHERE sqlc.narg(scope_teams)::text[] IS NULL OR team_id = ANY (sqlc.narg(scope_teams)::text[])
ORDER BY rank, team_id;

-- name: CSITrend :many
-- R7: everyone's results of the months [from_month, to_month], scoped.
SELECT employee_id, coalesce(team_id, '')::text AS team_id, month, score, band
FROM assessments
WHERE month >= @from_month::text AND month <= @to_month::text
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR employee_id = sqlc.narg(scope_self)::text)
ORDER BY employee_id, month;

-- name: CSITeamTrend :many
-- R7: each team's total and members per month of [from_month, to_month].
SELECT team_id::text AS team_id, month, sum(score)::numeric AS total, count(*)::int AS members
FROM assessments
WHERE month >= @from_month::text AND month <= @to_month::text AND team_id IS NOT NULL
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR team_id = ANY (sqlc.narg(scope_teams)::text[]))
GROUP BY team_id, month
ORDER BY team_id, month;

-- name: AppealOutcomes :many
-- R7 appeal outcomes per month of the results appealed against (R4.5: a
-- month is final once its appeals end), [from_month, to_month]: how many
-- were opened and how each ended or stands; stage2 counts those that
-- reached stage 2 (R6), deadline_missed those whose stage-2 deadline was
-- missed and escalated to the head of HR.
SELECT a.month,
       count(*)::int AS opened,
       (count(*) FILTER (WHERE a.status = 'withdrawn'))::int AS withdrawn,
       (count(*) FILTER (WHERE a.status = 'upheld'))::int AS upheld,
       (count(*) FILTER (WHERE a.status = 'rejected'))::int AS rejected,
       (count(*) FILTER (WHERE a.status = 'open'))::int AS still_open,
       (count(*) FILTER (WHERE a.stage = 2))::int AS stage2,
       (count(*) FILTER (WHERE a.escalated_at IS NOT NULL))::int AS deadline_missed
FROM appeals a
JOIN users u ON u.id = a.appellant_id
WHERE a.month >= @from_month::text AND a.month <= @to_month::text
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR u.team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR a.appellant_id = sqlc.narg(scope_self)::text)
GROUP BY a.month
ORDER BY a.month;

-- name: PendingApprovals :many
-- R7 pending approvals: rewards with an open step (R5.3: pending, or
-- approved and waiting for the payout; the same set as the
-- reward_steps_overdue gauge), oldest step first. A step's age runs from
-- step_since (when this round's step began). Scoped by the nominee's team.
-- Keyset by (since, nomination_no).
SELECT r.nomination_no, r.nominee_id, coalesce(u.team_id, '')::text AS team_id, r.nominator_id, r.kind,
       r.amount_fen, r.status, r.step::text AS step, r.step_role, r.awaiting, r.excluded,
       coalesce(r.step_since, r.created_at)::timestamptz AS since, r.due_at, r.round,
       -- R2: a deadline is met by anything strictly before it
       coalesce(r.due_at <= @as_of::timestamptz, false)::bool AS overdue
FROM rewards r
JOIN users u ON u.id = r.nominee_id
WHERE r.last_seq IS NOT NULL -- written by its workflow (reconcile.go)
  AND r.status IN ('pending', 'approved') AND r.step IS NOT NULL
  AND (sqlc.narg(step)::text IS NULL OR r.step = sqlc.narg(step)::text)
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR u.team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR r.nominee_id = sqlc.narg(scope_self)::text)
  AND (sqlc.narg(after_since)::timestamptz IS NULL
       OR (coalesce(r.step_since, r.created_at), r.nomination_no)
          > (sqlc.narg(after_since)::timestamptz, coalesce(sqlc.narg(after_no)::text, '')))
ORDER BY coalesce(r.step_since, r.created_at), r.nomination_no
LIMIT @row_limit;

-- name: PendingApprovalsPerStep :many
-- R7: PendingApprovals counted per step (all of them, not one page): how
-- many, how many past their deadline at as_of (as PendingApprovals says),
-- and since when the oldest waits.
SELECT r.step::text AS step, count(*)::int AS pending,
       (count(*) FILTER (WHERE r.due_at <= @as_of::timestamptz))::int AS overdue,
       min(coalesce(r.step_since, r.created_at))::timestamptz AS oldest_since
FROM rewards r
JOIN users u ON u.id = r.nominee_id
WHERE r.last_seq IS NOT NULL
  AND r.status IN ('pending', 'approved') AND r.step IS NOT NULL
  AND (sqlc.narg(step)::text IS NULL OR r.step = sqlc.narg(step)::text)
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR u.team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR r.nominee_id = sqlc.narg(scope_self)::text)
GROUP BY r.step
ORDER BY array_position(ARRAY['manager', 'hr', 'committee', 'payout'], r.step::text);
