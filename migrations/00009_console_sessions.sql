-- Console sessions (issue 10): a signed-in browser holds an opaque cookie
-- "<id>.<secret>"; only the secret's SHA-256 is stored, as for api_tokens.
-- A session signed in with a bearer token ends when that token is revoked
-- or expires (checked on every request); token_id is NULL for a session
-- from single sign-on (a later issue), which ends at expires_at.

-- +goose Up
-- A user as authorization sees them (R1): roles, and the teams they manage
-- as team supervisor or as head of the department. One home for both the
-- bearer-token and the session lookup.
CREATE VIEW principals AS
SELECT u.id AS user_id, u.name, coalesce(u.team_id, '')::text AS team_id, u.active,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}')::text[] AS roles,
       coalesce((SELECT array_agg(tm.id ORDER BY tm.id) FROM teams tm
                 LEFT JOIN departments d ON d.id = tm.department_id
                 WHERE tm.manager_id = u.id OR d.head_id = u.id), '{}')::text[] AS managed_teams
FROM users u;

CREATE TABLE console_sessions (
    id            text PRIMARY KEY,
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_id      text REFERENCES api_tokens (id) ON DELETE CASCADE,
    -- The synchronizer token every form and htmx request of this session
    -- carries (CSRF).
    csrf          text NOT NULL CHECK (csrf <> ''),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- +goose Down
DROP TABLE console_sessions;
DROP VIEW principals;
