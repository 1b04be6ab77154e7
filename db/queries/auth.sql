-- name: TokenByID :one
-- The principal behind a token id, with everything authorization needs (R1).
SELECT t.secret_sha256, t.expires_at, t.revoked_at,
       p.user_id, p.name, p.team_id, p.active, p.roles, p.managed_teams
FROM api_tokens t
JOIN principals p ON p.user_id = t.user_id
WHERE t.id = $1;

-- name: InsertToken :exec
INSERT INTO api_tokens (id, user_id, secret_sha256, label) VALUES ($1, $2, $3, $4);

-- name: RevokeUserTokens :exec
UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND label = $2 AND revoked_at IS NULL;

-- name: UpsertDepartment :exec
INSERT INTO departments (id, name) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET name = excluded.name;

-- name: SetDepartmentHead :exec
UPDATE departments SET head_id = $2 WHERE id = $1;

-- name: UpsertTeam :exec
INSERT INTO teams (id, name, department_id) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, department_id = excluded.department_id;

-- name: SetTeamManager :exec
UPDATE teams SET manager_id = $2 WHERE id = $1;

-- name: UpsertUser :exec
INSERT INTO users (id, name, team_id) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, team_id = excluded.team_id;

-- name: AddUserRole :exec
INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: CountUsers :one
SELECT count(*) FROM users;

-- name: GetUserPlacement :one
-- Where a user sits (R1): their team, its supervisor and department head,
-- and their roles. Used to assign and escalate complaints.
SELECT u.id, u.name, u.active, coalesce(u.team_id, '')::text AS team_id,
       coalesce(t.manager_id, '')::text AS manager_id, coalesce(d.head_id, '')::text AS head_id,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}')::text[] AS roles
FROM users u
LEFT JOIN teams t ON t.id = u.team_id
LEFT JOIN departments d ON d.id = t.department_id
WHERE u.id = $1;

-- name: InsertSession :exec
INSERT INTO console_sessions (id, secret_sha256, user_id, token_id, csrf, expires_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: SessionByID :one
-- A session and its principal; token_valid: the token it came from (if
-- any) is neither revoked nor expired.
SELECT s.secret_sha256, s.csrf, s.expires_at,
       (s.token_id IS NULL OR (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())))::bool AS token_valid,
       p.user_id, p.name, p.team_id, p.active, p.roles, p.managed_teams
FROM console_sessions s
JOIN principals p ON p.user_id = s.user_id
LEFT JOIN api_tokens t ON t.id = s.token_id
WHERE s.id = $1;

-- name: DeleteSession :exec
DELETE FROM console_sessions WHERE id = $1;

-- name: DeleteExpiredSessions :execrows
DELETE FROM console_sessions WHERE expires_at <= now();
