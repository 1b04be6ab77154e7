-- +goose Up
-- The officers' board (issue 10) and GET /api/v1/clocks: every running
-- clock, soonest due first, with its warning instant and its level-2 due
-- time. The Complaint workflow computes both (R3) and SyncComplaint copies
-- them here; a complaint synced before this migration has them NULL until
-- its next change.
ALTER TABLE complaints
    ADD COLUMN contact_warn_at       timestamptz,
    ADD COLUMN contact_level2_at     timestamptz,
    ADD COLUMN plan_warn_at          timestamptz,
    ADD COLUMN plan_level2_at        timestamptz,
    ADD COLUMN resolution_warn_at    timestamptz,
    ADD COLUMN resolution_level2_at  timestamptz;

-- One index per clock over the unmet clocks of open cases, in the board's
-- order: ListOpenClocks merges the three index scans.
CREATE INDEX complaints_contact_open ON complaints (contact_due_at, complaint_no)
    WHERE contact_met_at IS NULL AND status IN ('open', 'reopened');
CREATE INDEX complaints_plan_open ON complaints (plan_due_at, complaint_no)
    WHERE plan_met_at IS NULL AND status IN ('open', 'reopened');
CREATE INDEX complaints_resolution_open ON complaints (resolution_due_at, complaint_no)
    WHERE resolution_met_at IS NULL AND status IN ('open', 'reopened');

-- +goose Down
DROP INDEX complaints_resolution_open;
DROP INDEX complaints_plan_open;
DROP INDEX complaints_contact_open;
ALTER TABLE complaints
    DROP COLUMN contact_warn_at, DROP COLUMN contact_level2_at,
    DROP COLUMN plan_warn_at, DROP COLUMN plan_level2_at,
    DROP COLUMN resolution_warn_at, DROP COLUMN resolution_level2_at;
