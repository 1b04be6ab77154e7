-- R4.0: a complaint counts for its assignee at the instant it is counted
-- by: its first missed clock, or, when it missed none, its resolution. The
-- sync activity derives it from the audit trail; NULL until either happens.

-- +goose Up
ALTER TABLE complaints ADD COLUMN counted_for text REFERENCES users (id);

-- +goose Down
ALTER TABLE complaints DROP COLUMN counted_for;
