-- Reports (R7) and the lists of deductions and appeals (issue 10).
--
-- The rule of whether an SLA clock was kept (R3) used to be written inline
-- in the assessment's MonthComplaints query. The timeliness report needs the
-- very same judgement, so it moves here, into two functions both queries
-- call: one home for "on time" (R3, R4.3).

-- +goose Up

-- R3: where a clock stands at as_of.
--   on_time  met strictly before its deadline (R2: a deadline is 24:00 of its
--            day, written as 00:00 of the next, and is met by anything
--            strictly before that instant);
--   late     met at or after its deadline;
--   overdue  not met, running, and its deadline has passed at as_of;
--   open     not met and not overdue (not yet due, or not running: a paused
--            resolution clock is not missed while paused);
--   NULL     the clock has no deadline (not started).
-- A clock is missed when late or overdue (clock_missed).
-- +goose StatementBegin
CREATE FUNCTION clock_standing(due_at timestamptz, met_at timestamptz, running boolean, as_of timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN due_at IS NULL THEN NULL
        WHEN met_at IS NOT NULL THEN CASE WHEN met_at < due_at THEN 'on_time' ELSE 'late' END
        WHEN running AND due_at <= as_of THEN 'overdue'
        ELSE 'open'
    END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION clock_missed(due_at timestamptz, met_at timestamptz, running boolean, as_of timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(clock_standing(due_at, met_at, running, as_of) IN ('late', 'overdue'), false)
$$;
-- +goose StatementEnd

-- R3, R4.0: the deadline of a complaint's first missed clock at as_of, NULL
-- when it missed none. A complaint is timely when it is resolved and
-- missed none; contact and plan clocks always run, the resolution clock
-- only while not paused.
-- +goose StatementBegin
CREATE FUNCTION complaint_first_miss(contact_due_at timestamptz, contact_met_at timestamptz,
                                     plan_due_at timestamptz, plan_met_at timestamptz,
                                     resolution_due_at timestamptz, resolution_met_at timestamptz,
                                     resolution_paused boolean, as_of timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT least(
        CASE WHEN clock_missed(contact_due_at, contact_met_at, true, as_of) THEN contact_due_at END,
        CASE WHEN clock_missed(plan_due_at, plan_met_at, true, as_of) THEN plan_due_at END,
        CASE WHEN clock_missed(resolution_due_at, resolution_met_at, NOT resolution_paused, as_of) THEN resolution_due_at END
    )
$$;
-- +goose StatementEnd

-- GET /api/v1/deductions walks (occurred_at, id); a manager's queue of
-- proposals to confirm (?status=proposed, R3/R4.4) walks only those.
CREATE INDEX deductions_occurred ON deductions (occurred_at, id);
CREATE INDEX deductions_proposed ON deductions (occurred_at, id) WHERE status = 'proposed';

-- GET /api/v1/appeals walks (opened_at, id); HR's desk (?status=open) walks
-- only the open ones.
CREATE INDEX appeals_opened ON appeals (opened_at, id);
CREATE INDEX appeals_open ON appeals (opened_at, id) WHERE status = 'open';

-- GET /api/v1/reports/approvals: the open steps, oldest first.
CREATE INDEX rewards_open_steps ON rewards ((coalesce(step_since, created_at)), nomination_no)
    WHERE status IN ('pending', 'approved') AND step IS NOT NULL;

-- +goose Down
DROP INDEX rewards_open_steps;
DROP INDEX appeals_open;
DROP INDEX appeals_opened;
DROP INDEX deductions_proposed;
DROP INDEX deductions_occurred;
DROP FUNCTION complaint_first_miss(timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, timestamptz, boolean, timestamptz);
DROP FUNCTION clock_missed(timestamptz, timestamptz, boolean, timestamptz);
DROP FUNCTION clock_standing(timestamptz, timestamptz, boolean, timestamptz);
