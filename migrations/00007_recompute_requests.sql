-- +goose Up
-- R4.0 late entries: a work order, a deduction decision or a survey dated in
-- a published month asks that month's cycle to recompute. The request is
-- written in the entry's own transaction (an outbox) and deleted once the
-- cycle has been signalled, so a crash between the entry and the signal
-- leaves a request the reconciler (server/reconcile.go) signals later: no
-- entry is stored without its month being recomputed.
CREATE TABLE recompute_requests (
    month        text PRIMARY KEY CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- +goose Down
DROP TABLE recompute_requests;
