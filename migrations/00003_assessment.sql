-- The monthly CSI assessment (R4) and its appeals (R6): work orders (R4.2),
-- the month's cycle (R4.5), the published results, appeals with their audit
-- trail, the assessor's record of overturned results, and probation (R4.4).
-- Deductions (R4.4) and surveys (R4.1) are in 00002.

-- +goose Up

-- R7: append-only tables refuse UPDATE and DELETE (one function for all).
-- +goose StatementBegin
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (R7)', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd

-- R4.2 work orders. A work order counts for its technician in the month of
-- completed_at (R4.0). A repair that comes back within 30 days is not a
-- first-time fix: entering a work order with repeat_of = X completed at most
-- 30 days after X sets X.first_time_fix = false (and X.came_back_as) in the
-- same transaction.
CREATE TABLE work_orders (
    work_order_no  text PRIMARY KEY,
    -- SHA-256 of the canonical create body: same number + same hash is a
    -- retry (200), another hash a conflict (409).
    request_hash   bytea NOT NULL CHECK (length(request_hash) = 32),
    technician_id  text NOT NULL REFERENCES users (id),
    team_id        text NOT NULL REFERENCES teams (id), -- the technician's team at entry
    completed_at   timestamptz NOT NULL,
    repeat_of      text REFERENCES work_orders (work_order_no) CHECK (repeat_of <> work_order_no),
    first_time_fix boolean NOT NULL DEFAULT true,
    -- R7: the first repeat that came back within 30 days and cleared first_time_fix.
    came_back_as   text REFERENCES work_orders (work_order_no),
    created_by     text NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (first_time_fix = (came_back_as IS NULL))
);
CREATE INDEX work_orders_completed ON work_orders (completed_at);
CREATE INDEX work_orders_repeat_of ON work_orders (repeat_of) WHERE repeat_of IS NOT NULL;

-- R4.5 one row per assessed month, written by the AssessmentCycle workflow's
-- activities. status only moves forward: computing, published, closing, final.
CREATE TABLE assessment_cycles (
    month          text PRIMARY KEY CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    status         text NOT NULL CHECK (status IN ('computing', 'published', 'closing', 'final')),
    published_at   timestamptz,
    window_ends_at timestamptz,
    finalized_at   timestamptz,
    results_count  integer NOT NULL DEFAULT 0 CHECK (results_count >= 0),
    open_appeals   integer NOT NULL DEFAULT 0 CHECK (open_appeals >= 0),
    started_by     text NOT NULL, -- a user id, or "system" for the schedule
    -- the month's instants [period_start, period_end) in the calendar's zone (R4.0), set by ComputeResults
    period_start   timestamptz,
    period_end     timestamptz,
    -- R5.2: the month's CSI service stars, [{assessment_id, employee_id, team_id, score}]
    service_stars  jsonb NOT NULL DEFAULT '[]',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- R4.4 one employee's monthly result. Indicators are NULL when they had no
-- data that month. An upheld appeal (R6) corrects score and band and keeps
-- the original with who corrected it, when and why.
CREATE TABLE assessments (
    id                text PRIMARY KEY, -- workflows.AssessmentID: "<month>_<employee_id>"
    month             text NOT NULL REFERENCES assessment_cycles (month),
    employee_id       text NOT NULL REFERENCES users (id),
    team_id           text REFERENCES teams (id), -- the employee's team when computed
    -- what the indicators were computed from (R4.0), kept so a result can be explained (R7)
    surveys           integer NOT NULL CHECK (surveys >= 0),
    work_orders       integer NOT NULL CHECK (work_orders >= 0),
    first_time_fixes  integer NOT NULL CHECK (first_time_fixes BETWEEN 0 AND work_orders),
    complaints        integer NOT NULL CHECK (complaints >= 0),
    timely_complaints integer NOT NULL CHECK (timely_complaints BETWEEN 0 AND complaints),
    csat              numeric(4, 1) CHECK (csat BETWEEN 0 AND 100),
    ftfr              numeric(4, 1) CHECK (ftfr BETWEEN 0 AND 100),
    timeliness        numeric(4, 1) CHECK (timeliness BETWEEN 0 AND 100),
    deduction_points  integer NOT NULL DEFAULT 0 CHECK (deduction_points >= 0),
    deduction_count   integer NOT NULL DEFAULT 0 CHECK (deduction_count >= 0),
    score             numeric(4, 1) NOT NULL CHECK (score BETWEEN 0 AND 100),
    band              text NOT NULL CHECK (band IN ('excellent', 'good', 'fair', 'poor', 'failing')),
    serious_warning   boolean NOT NULL DEFAULT false,
    probation         boolean NOT NULL DEFAULT false,
    status            text NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'final')),
    original_score    numeric(4, 1),
    original_band     text,
    corrected_by      text REFERENCES users (id),
    corrected_at      timestamptz,
    correction_reason text,
    computed_at       timestamptz NOT NULL,
    UNIQUE (month, employee_id),
    -- R6, R7: a correction always keeps the original and says who, when and why.
    CHECK ((corrected_at IS NULL) = (original_score IS NULL)
       AND (corrected_at IS NULL) = (original_band IS NULL)
       AND (corrected_at IS NULL) = (corrected_by IS NULL)
       AND (corrected_at IS NULL) = (correction_reason IS NULL))
);
CREATE INDEX assessments_employee ON assessments (employee_id, month);
CREATE INDEX assessments_team ON assessments (team_id, month);

-- R6 one appeal per result (UNIQUE assessment_id), written by the Appeal
-- workflow's RecordAppeal. last_seq is the highest event seq applied: an
-- older state never overwrites a newer one.
CREATE TABLE appeals (
    id              text PRIMARY KEY, -- workflows.AppealID: "appeal_<assessment_id>"
    assessment_id   text NOT NULL UNIQUE REFERENCES assessments (id),
    month           text NOT NULL,
    appellant_id    text NOT NULL REFERENCES users (id),
    stage           integer NOT NULL CHECK (stage IN (1, 2)),
    status          text NOT NULL CHECK (status IN ('open', 'withdrawn', 'upheld', 'rejected')),
    due_at          timestamptz NOT NULL,
    escalated_at    timestamptz, -- the missed stage-2 deadline, escalated to the head of HR
    opened_at       timestamptz NOT NULL,
    decided_at      timestamptz,
    decided_by      text REFERENCES users (id),
    outcome_reason  text,
    original_score  numeric(4, 1) NOT NULL, -- the published score appealed against
    corrected_score numeric(4, 1) CHECK (corrected_score BETWEEN 0 AND 100),
    last_seq        integer NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'upheld') = (corrected_score IS NOT NULL)),
    CHECK ((status = 'open') = (decided_at IS NULL))
);
CREATE INDEX appeals_month ON appeals (month, status);

-- R7: the appeal's audit trail, append-only.
CREATE TABLE appeal_events (
    appeal_id text NOT NULL REFERENCES appeals (id),
    seq       integer NOT NULL,
    type      text NOT NULL,
    actor_id  text NOT NULL, -- a user id or "system"
    at        timestamptz NOT NULL,
    reason    text NOT NULL DEFAULT '',
    data      jsonb,
    PRIMARY KEY (appeal_id, seq)
);
CREATE TRIGGER appeal_events_append_only BEFORE UPDATE OR DELETE ON appeal_events
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- R6: "the assessor's own record notes the overturned assessment". The
-- assessor is the manager of the result's team when the appeal was upheld
-- (its supervisor, else the department head; NULL when it has neither).
-- Append-only.
CREATE TABLE assessor_overturns (
    id              bigserial PRIMARY KEY,
    appeal_id       text NOT NULL UNIQUE REFERENCES appeals (id),
    assessment_id   text NOT NULL REFERENCES assessments (id),
    assessor_id     text REFERENCES users (id),
    decided_by      text NOT NULL REFERENCES users (id),
    original_score  numeric(4, 1) NOT NULL,
    corrected_score numeric(4, 1) NOT NULL,
    reason          text NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX assessor_overturns_assessor ON assessor_overturns (assessor_id, at);
CREATE TRIGGER assessor_overturns_append_only BEFORE UPDATE OR DELETE ON assessor_overturns
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- R4.4: score 0 in two consecutive months: three months of probation, from
-- the month after the second (from_month), recorded when that month's
-- results become final.
CREATE TABLE probation (
    employee_id   text NOT NULL REFERENCES users (id),
    from_month    text NOT NULL CHECK (from_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    months        integer NOT NULL DEFAULT 3 CHECK (months > 0),
    assessment_id text NOT NULL REFERENCES assessments (id), -- the second zero month's result
    reason        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (employee_id, from_month)
);

-- +goose Down
DROP TABLE probation;
DROP TABLE assessor_overturns;
DROP TABLE appeal_events;
DROP TABLE appeals;
DROP TABLE assessments;
DROP TABLE assessment_cycles;
DROP TABLE work_orders;
DROP FUNCTION append_only();
