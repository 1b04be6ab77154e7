-- Single sign-on (issue 12): a person signed in by the OpenID Connect
-- provider is found by one claim of their token (OIDC_USER_CLAIM, default
-- "sub") in this column. Roles and team stay in this service's tables; the
-- provider only says who the person is. NULL: the user has no single
-- sign-on (bearer tokens only). UNIQUE: one claim value is one person.

-- +goose Up
ALTER TABLE users ADD COLUMN oidc_subject text UNIQUE CHECK (oidc_subject <> '');

-- +goose Down
ALTER TABLE users DROP COLUMN oidc_subject;
