-- R4.7 team ranking (seed 001; issue 13, item 6): HR's monthly items with
-- their levels, each item's rank of every team, and the managers' calls of
-- E in place of a D. Points, totals and grades are not stored: they are
-- computed from these rows by package ranking on every read, so they can
-- never disagree with the ranks they come from.
--
-- The constraints keep out anything package ranking would refuse: a level
-- outside 1-4, a rank outside 1..n, an item that does not rank exactly n
-- teams, ranks that are not 1 + the number of teams ranked better (ties
-- share the better rank: 1, 2, 2, 4), and ranked items of one month that
-- rank different teams.

-- +goose Up
CREATE TABLE ranking_items (
    month      text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    -- the item's id within the month (input.Key), e.g. customer-visits
    item       text NOT NULL CHECK (item ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    level      smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    -- n, the number of teams the item ranks; 0 while it is not ranked yet
    -- (HR sets a month's items and levels ahead, seed 001: by the 25th)
    teams      smallint NOT NULL DEFAULT 0 CHECK (teams >= 0),
    updated_by text NOT NULL REFERENCES users (id),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (month, item),
    UNIQUE (month, item, teams) -- the target of ranking_ranks' n
);

-- One team's rank in one item. The item's n is repeated here, tied to the
-- item's by the foreign key, so a CHECK can bound the rank by it.
CREATE TABLE ranking_ranks (
    month   text NOT NULL,
    item    text NOT NULL,
    teams   smallint NOT NULL,
    team_id text NOT NULL REFERENCES teams (id),
    rank    smallint NOT NULL CHECK (rank >= 1 AND rank <= teams),
    PRIMARY KEY (month, item, team_id),
    FOREIGN KEY (month, item, teams) REFERENCES ranking_items (month, item, teams) ON DELETE CASCADE
);

-- What no row CHECK can see: checked for the whole month at commit
-- (deferred), once an item and its ranks are all written.
-- +goose StatementBegin
CREATE FUNCTION ranking_month_valid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m text := CASE WHEN TG_OP = 'DELETE' THEN OLD.month ELSE NEW.month END;
BEGIN
    IF EXISTS (SELECT 1 FROM ranking_items i WHERE i.month = m
               AND i.teams <> (SELECT count(*) FROM ranking_ranks r WHERE r.month = i.month AND r.item = i.item)) THEN
        RAISE EXCEPTION 'ranking %: an item does not rank exactly its n teams (R4.7)', m USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM ranking_ranks r WHERE r.month = m
               AND r.rank <> 1 + (SELECT count(*) FROM ranking_ranks b
                                  WHERE b.month = r.month AND b.item = r.item AND b.rank < r.rank)) THEN
        RAISE EXCEPTION 'ranking %: a rank is not 1 + the number of teams ranked better (R4.7)', m USING ERRCODE = 'check_violation';
    END IF;
    IF (SELECT count(DISTINCT teams) FROM (SELECT array_agg(team_id ORDER BY team_id) AS teams
                                           FROM ranking_ranks WHERE month = m GROUP BY item) s) > 1 THEN
        RAISE EXCEPTION 'ranking %: the ranked items rank different teams (R4.7)', m USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER ranking_items_valid AFTER INSERT OR UPDATE OR DELETE ON ranking_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ranking_month_valid();
CREATE CONSTRAINT TRIGGER ranking_ranks_valid AFTER INSERT OR UPDATE OR DELETE ON ranking_ranks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ranking_month_valid();

-- R7: every change to a month's items, who and when; append-only.
CREATE TABLE ranking_item_log (
    id       bigserial PRIMARY KEY,
    month    text NOT NULL,
    item     text NOT NULL,
    action   text NOT NULL CHECK (action IN ('set', 'delete')),
    name     text,
    level    smallint,
    ranks    jsonb, -- {"team-a": 1, ...}, {} while not ranked
    actor_id text NOT NULL REFERENCES users (id),
    at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((action = 'set') = (name IS NOT NULL AND level IS NOT NULL AND ranks IS NOT NULL))
);
CREATE INDEX ranking_item_log_month ON ranking_item_log (month, item, id);

-- R4.7 "E at the manager's call": each call, who, when and why; the newest
-- of a team's month is in force. E replaces a D; D withdraws an earlier E.
CREATE TABLE team_grade_calls (
    id        bigserial PRIMARY KEY,
    month     text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    team_id   text NOT NULL REFERENCES teams (id),
    grade     text NOT NULL CHECK (grade IN ('D', 'E')),
    reason    text NOT NULL CHECK (btrim(reason) <> ''),
    called_by text NOT NULL REFERENCES users (id),
    called_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX team_grade_calls_month ON team_grade_calls (month, team_id, id DESC);

-- +goose StatementBegin
CREATE FUNCTION ranking_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (R7)', TG_TABLE_NAME;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ranking_item_log_append_only BEFORE UPDATE OR DELETE ON ranking_item_log
    FOR EACH ROW EXECUTE FUNCTION ranking_append_only();
CREATE TRIGGER ranking_item_log_no_truncate BEFORE TRUNCATE ON ranking_item_log
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_append_only();
CREATE TRIGGER team_grade_calls_append_only BEFORE UPDATE OR DELETE ON team_grade_calls
    FOR EACH ROW EXECUTE FUNCTION ranking_append_only();
CREATE TRIGGER team_grade_calls_no_truncate BEFORE TRUNCATE ON team_grade_calls
    FOR EACH STATEMENT EXECUTE FUNCTION ranking_append_only();

-- The console's live updates (migration 00010): the ranking page reloads.
CREATE TRIGGER ranking_items_changed AFTER INSERT OR UPDATE OR DELETE ON ranking_items
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER ranking_ranks_changed AFTER INSERT OR UPDATE OR DELETE ON ranking_ranks
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();
CREATE TRIGGER team_grade_calls_changed AFTER INSERT ON team_grade_calls
    FOR EACH STATEMENT EXECUTE FUNCTION notify_changed();

-- +goose Down
DROP TABLE team_grade_calls;
DROP TABLE ranking_item_log;
DROP FUNCTION ranking_append_only();
DROP TABLE ranking_ranks;
DROP TABLE ranking_items;
DROP FUNCTION ranking_month_valid();
