-- Complaints (R3): intake with the customer's personal data, the read model the
-- Complaint workflow keeps current, its audit trail, escalations, deduction
-- proposals (R4.4) and satisfaction surveys (R4.1).

-- +goose Up
CREATE TABLE complaints (
    complaint_no      text PRIMARY KEY,
    -- SHA-256 of the canonical create body: same key + same hash is a retry
    -- (200), another hash a conflict (409).
    request_hash      bytea NOT NULL CHECK (length(request_hash) = 32),
    -- R7: personal data lives only here; never in logs, metrics or workflow history.
    customer_name     text NOT NULL,
    customer_phone    text NOT NULL,
    product           text NOT NULL,
    category          text NOT NULL,
    description       text NOT NULL,
    assignee_id       text NOT NULL REFERENCES users (id),
    team_id           text NOT NULL REFERENCES teams (id),
    received_at       timestamptz NOT NULL,
    created_by        text NOT NULL REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- The read model, written by the workflow's sync activity (SyncComplaint).
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'reopened', 'closed')),
    resolved_at       timestamptz,
    first_time_fix    boolean NOT NULL DEFAULT true,
    breached          boolean NOT NULL DEFAULT false,
    -- earliest due_at of an open, unmet, unpaused clock; NULL when none
    next_due_at       timestamptz,
    contact_due_at    timestamptz,
    contact_met_at    timestamptz,
    plan_due_at       timestamptz,
    plan_met_at       timestamptz,
    resolution_due_at timestamptz,
    resolution_met_at timestamptz,
    resolution_paused boolean NOT NULL DEFAULT false,
    -- highest event seq applied; NULL until the first sync. A sync only
    -- writes the columns above when it carries a higher seq.
    last_seq          integer,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaints_status ON complaints (status);
CREATE INDEX complaints_assignee ON complaints (assignee_id);
CREATE INDEX complaints_team ON complaints (team_id);
CREATE INDEX complaints_next_due ON complaints (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX complaints_breached ON complaints (breached) WHERE breached;
-- the keyset order of ListComplaints
CREATE INDEX complaints_received ON complaints (received_at, complaint_no);

-- R7: the complaint's audit trail, append-only (the trigger below refuses
-- UPDATE and DELETE). actor_id is a user id or "system", so no foreign key.
CREATE TABLE complaint_events (
    complaint_no text NOT NULL REFERENCES complaints (complaint_no),
    seq          integer NOT NULL,
    type         text NOT NULL,
    actor_id     text NOT NULL,
    at           timestamptz NOT NULL,
    reason       text NOT NULL DEFAULT '',
    data         jsonb,
    PRIMARY KEY (complaint_no, seq)
);

-- +goose StatementBegin
CREATE FUNCTION complaint_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_events is append-only (R7)';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER complaint_events_append_only BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION complaint_events_append_only();

-- R3: each escalation fires exactly once per complaint, clock and level (the
-- UNIQUE constraint), and stays open until acknowledged.
CREATE TABLE escalations (
    id              text PRIMARY KEY, -- workflows.EscalationID: "<complaint_no>.<clock>.<level>"
    complaint_no    text NOT NULL REFERENCES complaints (complaint_no),
    clock           text NOT NULL CHECK (clock IN ('contact', 'plan', 'resolution')),
    level           integer NOT NULL CHECK (level IN (1, 2)),
    escalated_at    timestamptz NOT NULL,
    escalated_to    text[] NOT NULL DEFAULT '{}',
    acknowledged_at timestamptz,
    acknowledged_by text REFERENCES users (id),
    ack_note        text,
    UNIQUE (complaint_no, clock, level),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE INDEX escalations_open ON escalations (escalated_at, id) WHERE acknowledged_at IS NULL;
CREATE INDEX escalations_all ON escalations (escalated_at, id);

-- R4.4 deductions. A complaint's first missed clock proposes one (R3):
-- source_complaint_no is UNIQUE, so at most one proposal per complaint;
-- deductions a manager enters by hand have none. The manager then confirms
-- or cancels (decided_*). The assessment counts them by occurred_at (R4.0).
CREATE TABLE deductions (
    id                  bigserial PRIMARY KEY,
    employee_id         text NOT NULL REFERENCES users (id),
    reason_code         text NOT NULL CHECK (reason_code IN ('rude_to_customer', 'untimely_service',
                            'argument_with_customer', 'training_unprepared', 'rude_to_trainee')),
    points              integer NOT NULL CHECK (points > 0),
    status              text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed', 'cancelled')),
    occurred_at         timestamptz NOT NULL,
    note                text NOT NULL DEFAULT '',
    source_complaint_no text UNIQUE REFERENCES complaints (complaint_no),
    proposed_by         text NOT NULL, -- a user id or "system" (the workflow)
    created_at          timestamptz NOT NULL DEFAULT now(),
    decided_by          text REFERENCES users (id),
    decided_at          timestamptz,
    decision_note       text,
    -- R7: a decision always says who and when; a proposal has none.
    CHECK ((status = 'proposed') = (decided_at IS NULL) AND (decided_at IS NULL) = (decided_by IS NULL))
);
CREATE INDEX deductions_employee ON deductions (employee_id, occurred_at);

-- R4.1 satisfaction surveys: one per resolution of a complaint.
CREATE TABLE surveys (
    complaint_no text NOT NULL REFERENCES complaints (complaint_no),
    resolution   integer NOT NULL CHECK (resolution >= 1),
    employee_id  text NOT NULL REFERENCES users (id),
    attitude     smallint NOT NULL CHECK (attitude BETWEEN 1 AND 5),
    speed        smallint NOT NULL CHECK (speed BETWEEN 1 AND 5),
    quality      smallint NOT NULL CHECK (quality BETWEEN 1 AND 5),
    parts        smallint NOT NULL CHECK (parts BETWEEN 1 AND 5),
    cost         smallint NOT NULL CHECK (cost BETWEEN 1 AND 5),
    score        numeric(4, 2) NOT NULL CHECK (score BETWEEN 1 AND 5),
    surveyed_at  timestamptz NOT NULL,
    recorded_by  text NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_no, resolution)
);
CREATE INDEX surveys_employee ON surveys (employee_id, surveyed_at);

-- +goose Down
DROP TABLE surveys;
DROP TABLE deductions;
DROP TABLE escalations;
DROP TABLE complaint_events;
DROP FUNCTION complaint_events_append_only();
DROP TABLE complaints;
