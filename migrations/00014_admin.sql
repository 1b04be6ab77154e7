-- Administration of users, teams and tokens (issue 12, item 2; R1, R7).
-- Every change an admin (or the bootstrap command) makes is kept in
-- admin_audit, written in the same transaction as the change itself.

-- +goose Up
-- One row per changed field: who, when, which entity, old and new value.
-- actor_id is not a foreign key: the bootstrap command writes as the
-- pseudo-actor 'bootstrap', and an audit row must outlive anything it names.
CREATE TABLE admin_audit (
    id        bigserial PRIMARY KEY,
    actor_id  text NOT NULL CHECK (actor_id <> ''),
    at        timestamptz NOT NULL DEFAULT now(),
    entity    text NOT NULL CHECK (entity IN ('user', 'team', 'department', 'token')),
    entity_id text NOT NULL CHECK (entity_id <> ''),
    field     text NOT NULL CHECK (field <> ''),
    old_value text,
    new_value text,
    reason    text
);
-- The audit reader's filters, newest first (keyset on at, id).
CREATE INDEX admin_audit_at ON admin_audit (at DESC, id DESC);
CREATE INDEX admin_audit_entity ON admin_audit (entity, entity_id, at DESC, id DESC);
CREATE INDEX admin_audit_actor ON admin_audit (actor_id, at DESC, id DESC);

-- Append-only (R7), whatever the application role may do: an UPDATE or
-- DELETE fails, as for complaint_events. (TRUNCATE is refused too.)
-- +goose StatementBegin
CREATE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'admin_audit is append-only (R7)';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit
    FOR EACH ROW EXECUTE FUNCTION admin_audit_append_only();
CREATE TRIGGER admin_audit_no_truncate BEFORE TRUNCATE ON admin_audit
    FOR EACH STATEMENT EXECUTE FUNCTION admin_audit_append_only();

-- +goose Down
DROP TABLE admin_audit;
DROP FUNCTION admin_audit_append_only();
