-- Who owns each activity, keyed by activity_id (issue 15): GET /v1/activities/{id} gets only the id, and
-- `activities` is ordered by (user_id, activity_id), so a filter on the id alone read every athlete's rows.
-- The API reads the owner here (one granule), then the activity by its full key. An activity's athlete
-- never changes (its identity is (user id, client activity id)), so a row per activity is all there is;
-- duplicates from re-inserted versions collapse (ReplacingMergeTree) and are harmless before they do.
-- Filled by a materialized view on every insert into `activities`, whoever writes it (18.16 has no
-- projections). The column is `owner_id`, not `user_id`: this is an index of `activities`, not a per-user
-- table of its own (each insert into `activities` adds a row here too); the activity deletion purges it by
-- activity_id like every table with that column, the account deletion by owner_id
-- (services/api/account-deletion.ts).
CREATE TABLE IF NOT EXISTS fitstream.activity_owners (
    activity_id String,
    owner_id String
) ENGINE = ReplacingMergeTree
ORDER BY activity_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS fitstream.activity_owners_mv TO fitstream.activity_owners
AS SELECT activity_id, user_id AS owner_id FROM fitstream.activities;

-- The activities stored before this table existed (run once, by infra/clickhouse/migrate.ts).
INSERT INTO fitstream.activity_owners (activity_id, owner_id)
SELECT activity_id, any(user_id) FROM fitstream.activities GROUP BY activity_id;
