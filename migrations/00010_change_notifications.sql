-- Live updates for the console (issue 10): every write to a table a page
-- shows announces itself on the channel aftersales_changed, with the
-- table's name as payload. Statement-level triggers, so a write of many
-- rows is one notice, and PostgreSQL folds identical notices of one
-- transaction into one. Each server LISTENs and tells its browsers to
-- reload what they show; what they may see is decided by that reload, as
-- for any request, so a notice carries no data.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('aftersales_changed', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER complaints_changed AFTER INSERT OR UPDATE OR DELETE ON complaints
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER complaint_events_changed AFTER INSERT ON complaint_events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER escalations_changed AFTER INSERT OR UPDATE ON escalations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER deductions_changed AFTER INSERT OR UPDATE ON deductions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER assessments_changed AFTER INSERT OR UPDATE ON assessments
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER assessment_cycles_changed AFTER INSERT OR UPDATE ON assessment_cycles
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER appeals_changed AFTER INSERT OR UPDATE ON appeals
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER rewards_changed AFTER INSERT OR UPDATE ON rewards
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER payouts_changed AFTER INSERT ON payouts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();

-- +goose Down
DROP TRIGGER payouts_changed ON payouts;
DROP TRIGGER rewards_changed ON rewards;
DROP TRIGGER appeals_changed ON appeals;
DROP TRIGGER assessment_cycles_changed ON assessment_cycles;
DROP TRIGGER assessments_changed ON assessments;
DROP TRIGGER deductions_changed ON deductions;
DROP TRIGGER escalations_changed ON escalations;
DROP TRIGGER complaint_events_changed ON complaint_events;
DROP TRIGGER complaints_changed ON complaints;
DROP FUNCTION notify_changed();
