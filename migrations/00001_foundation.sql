-- Foundation: organisation (R1), bearer tokens, company calendar overrides (R2).

-- +goose Up
CREATE TABLE departments (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    head_id text            -- the department head (R1, R5.3); FK added below
);

CREATE TABLE teams (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    department_id text NOT NULL REFERENCES departments (id),
    manager_id    text     -- the team supervisor; FK added below
);

CREATE TABLE users (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    team_id    text REFERENCES teams (id),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE departments ADD FOREIGN KEY (head_id) REFERENCES users (id);
ALTER TABLE teams ADD FOREIGN KEY (manager_id) REFERENCES users (id);

-- R1: a person can hold several roles.
CREATE TABLE user_roles (
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    text NOT NULL CHECK (role IN ('agent', 'manager', 'hr', 'escalation_officer', 'committee', 'admin')),
    PRIMARY KEY (user_id, role)
);

-- A token is "<id>.<secret>": the id finds the row, the secret is only kept as
-- its SHA-256 and compared in constant time.
CREATE TABLE api_tokens (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- R2: company overrides win over the official calendar.
CREATE TABLE calendar_overrides (
    day        date PRIMARY KEY,
    working    boolean NOT NULL,
    note       text NOT NULL CHECK (note <> ''),
    updated_by text NOT NULL REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- R7: every change is kept with who and when (append-only).
CREATE TABLE calendar_override_log (
    id       bigserial PRIMARY KEY,
    day      date NOT NULL,
    action   text NOT NULL CHECK (action IN ('set', 'delete')),
    working  boolean,
    note     text,
    actor_id text NOT NULL REFERENCES users (id),
    at       timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE calendar_override_log;
DROP TABLE calendar_overrides;
DROP TABLE api_tokens;
DROP TABLE user_roles;
ALTER TABLE teams DROP CONSTRAINT teams_manager_id_fkey;
ALTER TABLE departments DROP CONSTRAINT departments_head_id_fkey;
DROP TABLE users;
DROP TABLE teams;
DROP TABLE departments;
