-- The monthly assessment (R4) and appeals (R6): work orders and deductions
-- entered over HTTP, the inputs of a month's results, the results, the
-- cycle, appeals, overturns and probation. Scores are numeric(4,1) and
-- cross the boundary as pgtype.Numeric (exact tenths), never as floats.

-- name: GetWorkOrder :one
SELECT work_order_no, request_hash, technician_id, team_id, completed_at, repeat_of, first_time_fix,
       came_back_as, created_by, created_at
FROM work_orders WHERE work_order_no = $1;

-- name: InsertWorkOrder :one
-- Creates the work order; no row (pgx.ErrNoRows) means the number exists:
-- compare GetWorkOrder's request_hash to tell a retry from a conflict.
INSERT INTO work_orders (work_order_no, request_hash, technician_id, team_id, completed_at, repeat_of, created_by)
VALUES (@work_order_no, @request_hash, @technician_id, @team_id, @completed_at, sqlc.narg(repeat_of), @created_by)
ON CONFLICT (work_order_no) DO NOTHING
RETURNING work_order_no, request_hash, technician_id, team_id, completed_at, repeat_of, first_time_fix,
          came_back_as, created_by, created_at;

-- name: MarkWorkOrderCameBack :execrows
-- R4.2: the repair of work_order_no came back as repeat_no, completed at
-- repeat_completed_at: when that is after it and at most 30 days later, it
-- was not a first-time fix. The first such repeat is kept (came_back_as).
UPDATE work_orders SET first_time_fix = false, came_back_as = @repeat_no::text
WHERE work_order_no = @work_order_no::text AND first_time_fix
  AND completed_at < @repeat_completed_at::timestamptz
  AND @repeat_completed_at::timestamptz <= completed_at + interval '30 days';

-- name: InsertDeduction :one
-- R4.4: a deduction a manager proposes by hand (no source complaint).
INSERT INTO deductions (employee_id, reason_code, points, occurred_at, note, proposed_by)
VALUES (@employee_id, @reason_code, @points, @occurred_at, @note, @proposed_by)
RETURNING *;

-- name: GetDeduction :one
SELECT * FROM deductions WHERE id = $1;

-- name: DecideDeduction :one
-- R4.4, R7: confirms or cancels a proposed deduction, with who, when and
-- why. No row (pgx.ErrNoRows) when it is missing or no longer proposed.
UPDATE deductions SET status = @status, decided_by = @decided_by::text, decided_at = now(),
    decision_note = @decision_note::text
WHERE id = @id AND status = 'proposed'
RETURNING *;

-- name: GetCycleStatus :one
SELECT status FROM assessment_cycles WHERE month = $1;

-- name: MonthSurveys :many
-- R4.0, R4.1: the month's surveys, by surveyed_at, for the survey's employee.
SELECT employee_id, attitude, speed, quality, parts, cost
FROM surveys
WHERE surveyed_at >= @month_start AND surveyed_at < @month_end
ORDER BY employee_id, complaint_no, resolution;

-- name: MonthWorkOrders :many
-- R4.0, R4.2: the month's work orders, by completed_at, for the technician.
SELECT technician_id, count(*)::int AS work_orders,
       (count(*) FILTER (WHERE first_time_fix))::int AS first_time_fixes
FROM work_orders
WHERE completed_at >= @month_start AND completed_at < @month_end
GROUP BY technician_id
ORDER BY technician_id;

-- name: MonthComplaints :many
-- R4.0, R4.3 (R3): a complaint counts in the month of the due_at of its first
-- missed clock, or, when it missed none, of its resolution (unresolved
-- complaints with no miss are not counted yet), for its assignee at that
-- instant (counted_for; the current assignee for rows synced before it).
-- Whether a clock was missed at as_of is complaint_first_miss's (migration
-- 00012, shared with the timeliness report). A deadline is 24:00 of its day
-- written as 00:00 of the next (R2), so a miss due at exactly the month's
-- start belongs to the month before: (start, end]. Timely = none missed.
WITH c AS (
    SELECT coalesce(counted_for, assignee_id) AS assignee_id, resolved_at,
           complaint_first_miss(contact_due_at, contact_met_at, plan_due_at, plan_met_at,
                                resolution_due_at, resolution_met_at, resolution_paused,
                                @as_of::timestamptz) AS first_miss
    FROM complaints
)
SELECT assignee_id, count(*)::int AS complaints, (count(*) FILTER (WHERE first_miss IS NULL))::int AS timely
FROM c
WHERE (first_miss > @month_start::timestamptz AND first_miss <= @month_end::timestamptz)
   OR (first_miss IS NULL AND resolved_at >= @month_start::timestamptz AND resolved_at < @month_end::timestamptz)
GROUP BY assignee_id
ORDER BY assignee_id;

-- name: MonthConfirmedDeductions :many
-- R4.0, R4.4: the month's confirmed deductions, by occurred_at.
SELECT employee_id, points
FROM deductions
WHERE status = 'confirmed' AND occurred_at >= @month_start AND occurred_at < @month_end
ORDER BY employee_id, occurred_at, id;

-- name: ListUserPlacements :many
-- GetUserPlacement for many users: team, its supervisor and department head.
SELECT u.id, coalesce(u.team_id, '')::text AS team_id,
       coalesce(t.manager_id, '')::text AS manager_id, coalesce(d.head_id, '')::text AS head_id
FROM users u
LEFT JOIN teams t ON t.id = u.team_id
LEFT JOIN departments d ON d.id = t.department_id
WHERE u.id = ANY (@ids::text[])
ORDER BY u.id;

-- name: EnsureCycle :exec
-- The cycle row of a month, created by its first ComputeResults (or
-- RecordCycle); an existing row keeps its status.
INSERT INTO assessment_cycles (month, status, started_by, period_start, period_end)
VALUES (@month, 'computing', @started_by, @period_start, @period_end)
ON CONFLICT (month) DO UPDATE SET period_start = excluded.period_start, period_end = excluded.period_end,
    updated_at = now()
WHERE assessment_cycles.period_start IS DISTINCT FROM excluded.period_start
   OR assessment_cycles.period_end IS DISTINCT FROM excluded.period_end;

-- name: SetCycleResultsCount :exec
UPDATE assessment_cycles SET results_count = @results_count, updated_at = now()
WHERE month = @month AND results_count <> @results_count;

-- name: UpsertCycle :exec
-- RecordCycle. The status only moves forward (computing < published <
-- closing < final): a retried older record never takes a cycle back; times
-- once set are kept.
INSERT INTO assessment_cycles (month, status, published_at, window_ends_at, finalized_at, results_count,
                               open_appeals, started_by, service_stars)
VALUES (@month, @status, sqlc.narg(published_at), sqlc.narg(window_ends_at), sqlc.narg(finalized_at),
        @results_count, @open_appeals, @started_by, @service_stars::jsonb)
ON CONFLICT (month) DO UPDATE SET
    status = excluded.status,
    published_at = coalesce(excluded.published_at, assessment_cycles.published_at),
    window_ends_at = coalesce(excluded.window_ends_at, assessment_cycles.window_ends_at),
    finalized_at = coalesce(excluded.finalized_at, assessment_cycles.finalized_at),
    results_count = excluded.results_count,
    open_appeals = excluded.open_appeals,
    service_stars = excluded.service_stars,
    updated_at = now()
WHERE array_position(ARRAY['computing', 'published', 'closing', 'final'], assessment_cycles.status)
   <= array_position(ARRAY['computing', 'published', 'closing', 'final'], excluded.status);

-- name: GetCycle :one
SELECT month, status, published_at, window_ends_at, finalized_at, results_count, open_appeals, started_by,
       service_stars, period_start, period_end, updated_at
FROM assessment_cycles WHERE month = $1;

-- name: UpsertAssessment :execrows
-- One employee's published result (R4.4). A result already final or
-- corrected by an appeal (R6) is never overwritten, and an identical one
-- is left as it is (computed_at included), so a rerun changes nothing.
INSERT INTO assessments (id, month, employee_id, team_id, surveys, work_orders, first_time_fixes, complaints,
                         timely_complaints, csat, ftfr, timeliness, deduction_points, deduction_count, score, band,
                         serious_warning, computed_at)
VALUES (@id, @month, @employee_id, sqlc.narg(team_id), @surveys, @work_orders, @first_time_fixes, @complaints,
        @timely_complaints, sqlc.narg(csat)::numeric, sqlc.narg(ftfr)::numeric, sqlc.narg(timeliness)::numeric,
        @deduction_points, @deduction_count, @score::numeric, @band, @serious_warning, now())
ON CONFLICT (id) DO UPDATE SET
    team_id = excluded.team_id, surveys = excluded.surveys, work_orders = excluded.work_orders,
    first_time_fixes = excluded.first_time_fixes, complaints = excluded.complaints,
    timely_complaints = excluded.timely_complaints, csat = excluded.csat, ftfr = excluded.ftfr,
    timeliness = excluded.timeliness, deduction_points = excluded.deduction_points,
    deduction_count = excluded.deduction_count, score = excluded.score, band = excluded.band,
    serious_warning = excluded.serious_warning, computed_at = excluded.computed_at
WHERE assessments.status = 'published' AND assessments.corrected_at IS NULL
  AND (assessments.team_id, assessments.surveys, assessments.work_orders, assessments.first_time_fixes,
       assessments.complaints, assessments.timely_complaints, assessments.csat, assessments.ftfr,
       assessments.timeliness, assessments.deduction_points, assessments.deduction_count, assessments.score,
       assessments.band, assessments.serious_warning)
      IS DISTINCT FROM
      (excluded.team_id, excluded.surveys, excluded.work_orders, excluded.first_time_fixes,
       excluded.complaints, excluded.timely_complaints, excluded.csat, excluded.ftfr,
       excluded.timeliness, excluded.deduction_points, excluded.deduction_count, excluded.score,
       excluded.band, excluded.serious_warning);

-- name: ListMonthResults :many
SELECT id, month, employee_id, coalesce(team_id, '')::text AS team_id, surveys, work_orders, first_time_fixes,
       complaints, timely_complaints, csat, ftfr, timeliness,
       deduction_points, deduction_count, score, band, serious_warning, probation, status,
       original_score, original_band, corrected_by, corrected_at, correction_reason,
       computed_at
FROM assessments WHERE month = $1 ORDER BY employee_id;

-- name: GetAssessment :one
SELECT id, month, employee_id, coalesce(team_id, '')::text AS team_id, surveys, work_orders, first_time_fixes,
       complaints, timely_complaints, csat, ftfr, timeliness,
       deduction_points, deduction_count, score, band, serious_warning, probation, status,
       original_score, original_band, corrected_by, corrected_at, correction_reason,
       computed_at
FROM assessments WHERE id = $1;

-- name: FinalizeMonthResults :execrows
UPDATE assessments SET status = 'final' WHERE month = $1 AND status = 'published';

-- name: CountMonthResults :one
SELECT count(*)::int FROM assessments WHERE month = $1 AND status = @status::text;

-- name: ZeroScoreStreaks :many
-- R4.4: results of month with score 0 whose employee also had a final
-- score 0 in prev_month.
SELECT cur.id, cur.employee_id
FROM assessments cur
JOIN assessments prev ON prev.employee_id = cur.employee_id AND prev.month = @prev_month::text
                     AND prev.status = 'final' AND prev.score = 0
WHERE cur.month = @month::text AND cur.score = 0
ORDER BY cur.employee_id;

-- name: InsertProbation :execrows
INSERT INTO probation (employee_id, from_month, months, assessment_id, reason)
VALUES (@employee_id, @from_month, @months, @assessment_id, @reason)
ON CONFLICT (employee_id, from_month) DO NOTHING;

-- name: SetAssessmentProbation :exec
UPDATE assessments SET probation = true WHERE id = $1 AND NOT probation;

-- name: StarCandidates :many
-- R5.2: the month's results with a team, with the employee's confirmed
-- deductions of the month as they stand now (one confirmed after the
-- results were computed still disqualifies).
SELECT a.id, a.employee_id, a.team_id::text AS team_id, a.score,
       (SELECT count(*) FROM deductions d
        WHERE d.employee_id = a.employee_id AND d.status = 'confirmed'
          AND d.occurred_at >= @month_start::timestamptz AND d.occurred_at < @month_end::timestamptz)::int AS confirmed_deductions
FROM assessments a
WHERE a.month = @month::text AND a.team_id IS NOT NULL
ORDER BY a.team_id, a.score DESC, a.employee_id;

-- name: InsertAppeal :execrows
-- An appeal's first record; 0 rows when it exists (then LockAppeal and UpdateAppeal).
INSERT INTO appeals (id, assessment_id, month, appellant_id, stage, status, due_at, escalated_at, opened_at,
                     decided_at, decided_by, outcome_reason, original_score, corrected_score, last_seq)
VALUES (@id, @assessment_id, @month, @appellant_id, @stage, @status, @due_at, sqlc.narg(escalated_at), @opened_at,
        sqlc.narg(decided_at), sqlc.narg(decided_by), sqlc.narg(outcome_reason), @original_score::numeric,
        sqlc.narg(corrected_score)::numeric, @last_seq)
ON CONFLICT (id) DO NOTHING;

-- name: LockAppeal :one
SELECT status, last_seq, escalated_at FROM appeals WHERE id = $1 FOR UPDATE;

-- name: UpdateAppeal :execrows
-- R6: a newer state only (higher last event seq); times once set are kept.
UPDATE appeals SET stage = @stage, status = @status, due_at = @due_at,
    escalated_at = coalesce(escalated_at, sqlc.narg(escalated_at)),
    decided_at = coalesce(decided_at, sqlc.narg(decided_at)),
    decided_by = coalesce(decided_by, sqlc.narg(decided_by)),
    outcome_reason = coalesce(sqlc.narg(outcome_reason), outcome_reason),
    corrected_score = sqlc.narg(corrected_score)::numeric,
    last_seq = @last_seq, updated_at = now()
WHERE id = @id AND last_seq < @last_seq;

-- name: InsertAppealEvents :many
-- Appends events (parallel arrays); returns only the new ones. data is JSON
-- text, '' for none.
INSERT INTO appeal_events (appeal_id, seq, type, actor_id, at, reason, data)
SELECT @appeal_id, unnest(@seqs::int[]), unnest(@types::text[]), unnest(@actor_ids::text[]),
       unnest(@ats::timestamptz[]), unnest(@reasons::text[]), nullif(unnest(@datas::text[]), '')::jsonb
ON CONFLICT (appeal_id, seq) DO NOTHING
RETURNING seq, type, at;

-- name: ListAppealEvents :many
SELECT appeal_id, seq, type, actor_id, at, reason, data FROM appeal_events WHERE appeal_id = $1 ORDER BY seq;

-- name: GetAppealRow :one
SELECT id, assessment_id, month, appellant_id, stage, status, due_at, escalated_at, opened_at, decided_at,
       decided_by, outcome_reason, original_score, corrected_score,
       last_seq, updated_at
FROM appeals WHERE id = $1;

-- name: CorrectAssessment :execrows
-- R6: an upheld appeal corrects the result: the published score and band are
-- kept as the original (only the first time), the corrected score and its
-- band replace them, with who, when and why.
UPDATE assessments SET
    original_score = coalesce(original_score, score),
    original_band = coalesce(original_band, band),
    score = @score::numeric, band = @band, corrected_by = @corrected_by::text,
    corrected_at = @corrected_at::timestamptz, correction_reason = @correction_reason::text
WHERE id = @id;

-- name: AssessorOfTeam :one
-- R6: the assessor of a team's results: its supervisor, else the department
-- head ('' when it has neither).
SELECT coalesce(t.manager_id, d.head_id, '')::text AS assessor_id
FROM teams t JOIN departments d ON d.id = t.department_id
WHERE t.id = $1;

-- name: InsertOverturn :execrows
-- R6: the assessor's record of an overturned result; once per appeal.
INSERT INTO assessor_overturns (appeal_id, assessment_id, assessor_id, decided_by, original_score,
                                corrected_score, reason, at)
VALUES (@appeal_id, @assessment_id, sqlc.narg(assessor_id), @decided_by, @original_score::numeric,
        @corrected_score::numeric, @reason, @at)
ON CONFLICT (appeal_id) DO NOTHING;

-- name: ListAssessments :many
-- GET /api/v1/assessments. R7 scope: scope_teams NULL = everything (HR);
-- otherwise the results of those teams (a manager's) plus the caller's own
-- (scope_self). Keyset by id.
SELECT id, month, employee_id, coalesce(team_id, '')::text AS team_id, csat, ftfr, timeliness,
       deduction_points, deduction_count, score, band, serious_warning, probation, status,
       original_score, original_band, corrected_by, corrected_at, correction_reason, computed_at
FROM assessments
WHERE (sqlc.narg(month)::text IS NULL OR month = sqlc.narg(month)::text)
  AND (sqlc.narg(employee_id)::text IS NULL OR employee_id = sqlc.narg(employee_id)::text)
  AND (sqlc.narg(team_id)::text IS NULL OR team_id = sqlc.narg(team_id)::text)
  AND (sqlc.narg(scope_teams)::text[] IS NULL OR team_id = ANY (sqlc.narg(scope_teams)::text[])
       OR employee_id = sqlc.narg(scope_self)::text)
  AND (sqlc.narg(after_id)::text IS NULL OR id > sqlc.narg(after_id)::text)
ORDER BY id
LIMIT @row_limit;

-- name: FinalScoresOfYear :many
-- R4.6: the final monthly scores of a year, as tenths.
SELECT employee_id, month, score
FROM assessments
WHERE month LIKE @year::text || '-%' AND status = 'final'
ORDER BY employee_id, month;

-- name: RequestRecompute :one
-- An entry of a published month asks for its recompute (outbox, see
-- migration 00007); the answer identifies this request for DoneRecompute.
INSERT INTO recompute_requests (month) VALUES (@month)
ON CONFLICT (month) DO UPDATE SET requested_at = clock_timestamp()
RETURNING requested_at;

-- name: DoneRecompute :exec
-- The cycle was signalled for the request made at requested_at; a later
-- request of the same month stays for its own signal.
DELETE FROM recompute_requests WHERE month = @month AND requested_at = @requested_at;

-- name: ListRecomputeRequests :many
SELECT month, requested_at FROM recompute_requests
WHERE requested_at < @older_than::timestamptz
ORDER BY requested_at
LIMIT @row_limit;
