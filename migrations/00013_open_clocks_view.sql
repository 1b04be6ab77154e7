-- +goose Up
-- One home for "which clocks run and in what state" (R3): the board's list
-- (ListOpenClocks, GET /api/v1/clocks) and the complaint_open_clocks gauge
-- read this view. A running clock is an unmet clock of an open or
-- reopened complaint; its state, at the moment of reading: paused (the
-- resolution clock only), breached from its deadline, warned from its
-- warning instant (the workflow computes both, migration 00011), else
-- running. The view is inlined into each query, so the clocks' partial
-- indexes still serve it.
CREATE VIEW open_clocks AS
SELECT k.*,
       CASE WHEN k.paused THEN 'paused'
            WHEN k.due_at <= now() THEN 'breached'
            WHEN k.warn_at <= now() THEN 'warned'
            ELSE 'running' END AS state
FROM (
    SELECT complaint_no, 'contact'::text AS clock, contact_due_at AS due_at, contact_warn_at AS warn_at,
           contact_level2_at AS level2_at, false AS paused, assignee_id, team_id, received_at
    FROM complaints
    WHERE contact_met_at IS NULL AND status IN ('open', 'reopened') AND contact_due_at IS NOT NULL AND last_seq IS NOT NULL
    UNION ALL
    SELECT complaint_no, 'plan', plan_due_at, plan_warn_at, plan_level2_at, false, assignee_id, team_id, received_at
    FROM complaints
    WHERE plan_met_at IS NULL AND status IN ('open', 'reopened') AND plan_due_at IS NOT NULL AND last_seq IS NOT NULL
    UNION ALL
    SELECT complaint_no, 'resolution', resolution_due_at, resolution_warn_at, resolution_level2_at, resolution_paused,
           assignee_id, team_id, received_at
    FROM complaints
    WHERE resolution_met_at IS NULL AND status IN ('open', 'reopened') AND resolution_due_at IS NOT NULL AND last_seq IS NOT NULL
) k;

-- +goose Down
DROP VIEW open_clocks;
