-- +goose Up
-- A manager's escalation list (their teams' and those escalated to them)
-- used to walk every open escalation and look up its complaint's team: a
-- manager whose teams had none scanned them all. The complaint's current
-- team is kept on each escalation (SyncComplaint sets it on insert and
-- follows a reassignment), so both halves of the list are index scans.
ALTER TABLE escalations ADD COLUMN team_id text REFERENCES teams (id);
UPDATE escalations e SET team_id = c.team_id FROM complaints c WHERE c.complaint_no = e.complaint_no;
ALTER TABLE escalations ALTER COLUMN team_id SET NOT NULL;
CREATE INDEX escalations_team_open ON escalations (team_id, escalated_at, id) WHERE acknowledged_at IS NULL;
CREATE INDEX escalations_team_all ON escalations (team_id, escalated_at, id);
CREATE INDEX escalations_recipients ON escalations USING gin (escalated_to);

-- ?breached=true lists in received order: walk the breached ones only.
DROP INDEX complaints_breached;
CREATE INDEX complaints_breached ON complaints (received_at, complaint_no) WHERE breached;

-- +goose Down
DROP INDEX complaints_breached;
CREATE INDEX complaints_breached ON complaints (breached) WHERE breached;
DROP INDEX escalations_recipients;
DROP INDEX escalations_team_all;
DROP INDEX escalations_team_open;
ALTER TABLE escalations DROP COLUMN team_id;
