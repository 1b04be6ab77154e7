-- +goose Up
-- The reconciler (server/reconcile.go) looks for intake rows whose workflow
-- never wrote the read model (last_seq IS NULL): a partial index keeps that
-- scan to those few rows, however many cases there are.
CREATE INDEX complaints_unstarted ON complaints (created_at) WHERE last_seq IS NULL;
CREATE INDEX rewards_unstarted ON rewards (created_at) WHERE last_seq IS NULL;

-- +goose Down
DROP INDEX rewards_unstarted;
DROP INDEX complaints_unstarted;
