-- Rewards (R5): the nomination intake and read model the RewardApproval
-- workflow keeps current (the approvers' inbox), its audit trail (R7), and
-- the one payout of each reward (R5.3 step 4).

-- +goose Up

-- R5.2, R5.3 one row per nomination. The server writes the intake columns
-- (request_hash .. created_by, status pending) before it starts the
-- workflow; the workflow's RecordReward activity writes the state columns
-- after every change (or inserts the whole row for a nomination that was not
-- made over HTTP, e.g. a CSI service star, R5.2: request_hash NULL).
CREATE TABLE rewards (
    nomination_no   text PRIMARY KEY,
    -- SHA-256 of the canonical create body: same number + same hash is a
    -- retry (200), another hash a conflict (409). NULL: not created over HTTP.
    request_hash    bytea CHECK (length(request_hash) = 32),
    nominee_id      text NOT NULL REFERENCES users (id),
    nominator_id    text NOT NULL, -- a user id, or "system" for a CSI service star (R5.2)
    kind            text NOT NULL CHECK (kind IN ('cash', 'honour', 'training', 'promotion')),
    amount_fen      bigint NOT NULL DEFAULT 0,
    reason          text NOT NULL,
    assessment_id   text REFERENCES assessments (id),
    created_at      timestamptz NOT NULL DEFAULT now(), -- the nomination's instant (RewardInput.NominatedAt)
    -- The read model (RewardState), written by RecordReward.
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'returned', 'rejected', 'withdrawn', 'approved', 'paid')),
    step            text CHECK (step IN ('manager', 'hr', 'committee', 'payout')), -- NULL: no current step
    step_role       text NOT NULL DEFAULT '', -- the role acting on the step; '' = the named people of awaiting
    awaiting        text[] NOT NULL DEFAULT '{}', -- the named people who may act (e.g. the department head)
    excluded        text[] NOT NULL DEFAULT '{}', -- R5.3 four eyes: may not act on the current step
    due_at          timestamptz, -- the current step's deadline (3 working days, R2)
    step_since      timestamptz, -- when the current step (of this round) began
    round           integer NOT NULL DEFAULT 1 CHECK (round >= 1),
    needs_committee boolean NOT NULL DEFAULT false,
    approvals       jsonb NOT NULL DEFAULT '[]', -- [{step, by, at, round}] (R5.3, R7)
    -- highest event seq applied; NULL until the first record. A record only
    -- writes the columns above when it carries a higher seq, so an older
    -- state never overwrites a newer one.
    last_seq        integer,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- R5.1: only a cash bonus has an amount.
    CHECK ((kind = 'cash') = (amount_fen > 0) AND amount_fen >= 0)
);
-- The approvers' inbox: by status and step, by the role acting on it, by the
-- named people, by nominator; and the keyset order of ListRewards.
CREATE INDEX rewards_inbox ON rewards (status, step);
CREATE INDEX rewards_step_role ON rewards (step_role) WHERE step_role <> '';
CREATE INDEX rewards_awaiting ON rewards USING gin (awaiting);
CREATE INDEX rewards_nominator ON rewards (nominator_id);
CREATE INDEX rewards_created ON rewards (created_at, nomination_no);
-- the reward_steps_overdue gauge
CREATE INDEX rewards_due ON rewards (due_at) WHERE due_at IS NOT NULL AND status IN ('pending', 'approved');

-- R7: the reward's audit trail, append-only (append_only() is 00003's).
-- actor_id is a user id or "system", so no foreign key.
CREATE TABLE reward_events (
    nomination_no text NOT NULL REFERENCES rewards (nomination_no),
    seq           integer NOT NULL,
    type          text NOT NULL,
    actor_id      text NOT NULL,
    at            timestamptz NOT NULL,
    reason        text NOT NULL DEFAULT '',
    data          jsonb,
    PRIMARY KEY (nomination_no, seq)
);
CREATE TRIGGER reward_events_append_only BEFORE UPDATE OR DELETE ON reward_events
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- R5.3 step 4: exactly one payout (cash: the payment reference) or issue
-- (honour, training, promotion: the certificate or place) per reward. The
-- primary key backs "exactly one"; append-only (R7).
CREATE TABLE payouts (
    nomination_no text PRIMARY KEY REFERENCES rewards (nomination_no),
    nominee_id    text NOT NULL REFERENCES users (id),
    kind          text NOT NULL CHECK (kind IN ('cash', 'honour', 'training', 'promotion')),
    amount_fen    bigint NOT NULL CHECK ((kind = 'cash') = (amount_fen > 0) AND amount_fen >= 0),
    reference     text NOT NULL CHECK (reference <> ''),
    recorded_by   text NOT NULL REFERENCES users (id),
    at            timestamptz NOT NULL
);
CREATE INDEX payouts_nominee ON payouts (nominee_id, at);
CREATE TRIGGER payouts_append_only BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION append_only();

-- +goose Down
DROP TABLE payouts;
DROP TABLE reward_events;
DROP TABLE rewards;
