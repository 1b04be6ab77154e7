-- Administration of users, teams, departments and tokens (issue 12). The
-- *ForUpdate reads lock the row, so the old value an audit row records is
-- the one the change replaced, even with two admins at work.

-- name: AdminUserForUpdate :one
SELECT u.id, u.name, coalesce(u.team_id, '')::text AS team_id, u.active, u.created_at,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}')::text[] AS roles
FROM users u WHERE u.id = $1 FOR UPDATE OF u;

-- name: AdminGetUser :one
SELECT u.id, u.name, coalesce(u.team_id, '')::text AS team_id, u.active, u.created_at,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}')::text[] AS roles
FROM users u WHERE u.id = $1;

-- name: AdminInsertUser :exec
INSERT INTO users (id, name, team_id) VALUES (@id, @name, sqlc.narg(team_id));

-- name: AdminSetUserActive :exec
UPDATE users SET active = @active WHERE id = @id;

-- name: AdminSetUserTeam :exec
UPDATE users SET team_id = sqlc.narg(team_id) WHERE id = @id;

-- name: AdminDeleteUserRoles :exec
DELETE FROM user_roles WHERE user_id = $1;

-- name: AdminListUsers :many
-- Keyset on id; every filter optional.
SELECT u.id, u.name, coalesce(u.team_id, '')::text AS team_id, u.active, u.created_at,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}')::text[] AS roles
FROM users u
WHERE (sqlc.narg(team_id)::text IS NULL OR u.team_id = sqlc.narg(team_id))
  AND (sqlc.narg(role)::text IS NULL OR EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = sqlc.narg(role)))
  AND (sqlc.narg(active)::bool IS NULL OR u.active = sqlc.narg(active))
  AND (sqlc.narg(after_id)::text IS NULL OR u.id > sqlc.narg(after_id))
ORDER BY u.id
LIMIT @row_limit;

-- name: AdminTeamForUpdate :one
SELECT id, name, department_id, coalesce(manager_id, '')::text AS manager_id
FROM teams WHERE id = $1 FOR UPDATE;

-- name: AdminSetTeamManager :exec
UPDATE teams SET manager_id = sqlc.narg(manager_id) WHERE id = @id;

-- name: AdminDepartmentForUpdate :one
SELECT id, name, coalesce(head_id, '')::text AS head_id
FROM departments WHERE id = $1 FOR UPDATE;

-- name: AdminSetDepartmentHead :exec
UPDATE departments SET head_id = sqlc.narg(head_id) WHERE id = @id;

-- name: AdminTeamExists :one
SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1);

-- name: AdminInsertToken :exec
INSERT INTO api_tokens (id, user_id, secret_sha256, label, expires_at)
VALUES (@id, @user_id, @secret_sha256, @label, sqlc.narg(expires_at));

-- name: AdminTokenForUpdate :one
SELECT id, user_id, label, created_at, expires_at, revoked_at
FROM api_tokens WHERE id = $1 FOR UPDATE;

-- name: AdminRevokeToken :one
UPDATE api_tokens SET revoked_at = now() WHERE id = $1
RETURNING id, user_id, label, created_at, expires_at, revoked_at;

-- name: AdminListTokens :many
-- A user's tokens, never their secrets; keyset on id.
SELECT id, user_id, label, created_at, expires_at, revoked_at
FROM api_tokens
WHERE user_id = @user_id AND (sqlc.narg(after_id)::text IS NULL OR id > sqlc.narg(after_id))
ORDER BY id
LIMIT @row_limit;

-- name: InsertAdminAudit :exec
INSERT INTO admin_audit (actor_id, entity, entity_id, field, old_value, new_value, reason)
VALUES (@actor_id, @entity, @entity_id, @field, sqlc.narg(old_value), sqlc.narg(new_value), sqlc.narg(reason));

-- name: ListAdminAudit :many
-- Newest first; keyset on (at, id) descending; every filter optional.
SELECT id, actor_id, at, entity, entity_id, field, old_value, new_value, reason
FROM admin_audit
WHERE (sqlc.narg(actor_id)::text IS NULL OR actor_id = sqlc.narg(actor_id))
  AND (sqlc.narg(entity)::text IS NULL OR entity = sqlc.narg(entity))
  AND (sqlc.narg(entity_id)::text IS NULL OR entity_id = sqlc.narg(entity_id))
  AND (sqlc.narg(since)::timestamptz IS NULL OR at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR at < sqlc.narg(until))
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::bigint))
ORDER BY at DESC, id DESC
LIMIT @row_limit;

-- name: AdminEndUserSessions :execrows
-- A deactivated user's console sessions end for good: the per-request
-- lookup already refuses them, and deleting them keeps a later
-- reactivation from reviving a browser left signed in.
DELETE FROM console_sessions WHERE user_id = $1;

-- name: AdminEndTokenSessions :execrows
DELETE FROM console_sessions WHERE token_id = $1;
