-- The console's directory (issue 10): names to show beside ids, and who
-- may be picked in its forms. Employee names are staff data, not customer
-- personal data (R7).

-- name: ListDirectoryUsers :many
SELECT u.id, u.name, coalesce(u.team_id, '')::text AS team_id, u.active,
       coalesce((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}')::text[] AS roles
FROM users u ORDER BY u.name, u.id;

-- name: ListDirectoryTeams :many
SELECT id, name FROM teams ORDER BY name, id;
