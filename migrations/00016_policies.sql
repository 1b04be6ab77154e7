-- Versioned SLA policies and recorded recalculations (issue 12, items 3
-- and 4; R1, R2, R7).

-- +goose Up
-- One row per version of a policy. A case takes the version in force at
-- its start (the latest effective_from at or before it) and keeps it. The
-- table is append-only: a new version is a new row, never an edit, so it
-- is its own history (who, when, why). body is the workflows package's JSON
-- of the policy (SLAPolicy, RewardPolicy, AssessmentPolicy), its version
-- included; version 1 of each is the rule book's (R3, R5.3, R4.5, R4.6, R6).
CREATE TABLE policies (
    kind           text NOT NULL CHECK (kind IN ('complaint', 'reward', 'assessment')),
    version        integer NOT NULL CHECK (version >= 1),
    effective_from timestamptz NOT NULL,
    body           jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object' AND body->'version' = to_jsonb(version)),
    reason         text NOT NULL CHECK (reason <> ''),
    created_by     text NOT NULL CHECK (created_by <> ''), -- a user id, or 'system' for version 1
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, version),
    UNIQUE (kind, effective_from)
);

INSERT INTO policies (kind, version, effective_from, body, reason, created_by) VALUES
('complaint', 1, '2000-01-01T00:00:00Z',
 '{"version": 1, "contact_within": "24h", "plan_within": "48h", "resolution_working_days": 7, "warning_fraction": 0.75,
   "level2_working_days": 1, "reopen_within": "720h", "deduction_points": 20}',
 'the rule book (R3)', 'system'),
('reward', 1, '2000-01-01T00:00:00Z',
 '{"version": 1, "committee_above_fen": 500000, "step_working_days": 3, "reminder_working_days": 2}',
 'the rule book (R5.3)', 'system'),
('assessment', 1, '2000-01-01T00:00:00Z',
 '{"version": 1, "publication_working_days": 3, "stage1_working_days": 2, "stage2_working_days": 5, "reminder_working_days": 3,
   "star_min_score": 90, "annual": {"excellent_percent": 10, "good_percent": 30, "failing_percent": 10}}',
 'the rule book (R4.5, R4.6, R6)', 'system');

-- +goose StatementBegin
CREATE FUNCTION policies_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'policies are append-only: add a version instead (R7)';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER policies_append_only BEFORE UPDATE OR DELETE ON policies
    FOR EACH ROW EXECUTE FUNCTION policies_append_only();
CREATE TRIGGER policies_no_truncate BEFORE TRUNCATE ON policies
    FOR EACH STATEMENT EXECUTE FUNCTION policies_append_only();

-- policy_in_force is the one home of "the version in force at an instant".
-- +goose StatementBegin
CREATE FUNCTION policy_in_force(p_kind text, p_at timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(version), 1) FROM policies WHERE kind = p_kind AND effective_from <= p_at;
$$;
-- +goose StatementEnd

-- The version a case started with, fixed at intake: a complaint by its
-- receipt, a nomination by its instant. Existing cases had version 1.
ALTER TABLE complaints ADD COLUMN policy_version integer NOT NULL DEFAULT 1;
ALTER TABLE rewards ADD COLUMN policy_version integer NOT NULL DEFAULT 1;
-- +goose StatementBegin
CREATE FUNCTION complaints_policy_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.policy_version := policy_in_force('complaint', NEW.received_at);
    RETURN NEW;
END;
$$;
CREATE FUNCTION rewards_policy_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.policy_version := policy_in_force('reward', NEW.created_at);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER complaints_policy_version BEFORE INSERT ON complaints
    FOR EACH ROW EXECUTE FUNCTION complaints_policy_version();
CREATE TRIGGER rewards_policy_version BEFORE INSERT ON rewards
    FOR EACH ROW EXECUTE FUNCTION rewards_policy_version();

-- A policy change is an administrative change like any other (R7).
ALTER TABLE admin_audit DROP CONSTRAINT admin_audit_entity_check;
ALTER TABLE admin_audit ADD CONSTRAINT admin_audit_entity_check
    CHECK (entity IN ('user', 'team', 'department', 'token', 'policy'));

-- R2, last rule: a recalculation of running complaints after a calendar or
-- policy change. The batch itself is a Recalculation workflow; this row is
-- its durable report, which outlives the workflow's retention. Each case
-- changed also gets a "recalculated" event in its own audit trail.
CREATE TABLE recalculations (
    id             text PRIMARY KEY CHECK (id <> ''),
    requested_by   text NOT NULL REFERENCES users (id),
    requested_at   timestamptz NOT NULL,
    reason         text NOT NULL CHECK (reason <> ''),
    policy_version integer, -- NULL: each case keeps its own policy, only the calendar changes
    total          integer NOT NULL CHECK (total >= 0),
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed')),
    report         jsonb NOT NULL DEFAULT '{}',
    finished_at    timestamptz
);
CREATE INDEX recalculations_requested ON recalculations (requested_at DESC, id DESC);

-- +goose Down
DROP TABLE recalculations;
ALTER TABLE admin_audit DROP CONSTRAINT admin_audit_entity_check;
ALTER TABLE admin_audit ADD CONSTRAINT admin_audit_entity_check
    CHECK (entity IN ('user', 'team', 'department', 'token'));
DROP TRIGGER rewards_policy_version ON rewards;
DROP TRIGGER complaints_policy_version ON complaints;
DROP FUNCTION rewards_policy_version();
DROP FUNCTION complaints_policy_version();
ALTER TABLE rewards DROP COLUMN policy_version;
ALTER TABLE complaints DROP COLUMN policy_version;
DROP FUNCTION policy_in_force(text, timestamptz);
DROP TABLE policies;
DROP FUNCTION policies_append_only();
