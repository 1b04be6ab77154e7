-- name: PrincipalByOIDCSubject :one
-- The principal whose users.oidc_subject is the provider's claim value
-- (issue 12). Inactive users are returned too, so the console can say why
-- it refuses them.
SELECT p.user_id, p.name, p.team_id, p.active, p.roles, p.managed_teams
FROM users u
JOIN principals p ON p.user_id = u.id
WHERE u.oidc_subject = sqlc.arg(subject)::text;

-- name: SetUserOIDCSubject :exec
-- Links a user to their single sign-on identity (NULL unlinks).
UPDATE users SET oidc_subject = $2 WHERE id = $1;
