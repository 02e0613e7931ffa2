-- Points of every activity under each version of the points rules (issue 15, docs/points.md), written by
-- the API: a rules change fills a whole new version with one INSERT ... SELECT from activities, then
-- flips PostgreSQL's points_current so readers switch at once; the API's consumer of activities.v1
-- rewrites an athlete's rows of the versions in use when their activities change. One row per
-- (rules_version, user_id, activity_id); the latest computed_at wins (a deletion is a row with
-- deleted = 1), so writing the same state twice changes nothing. Read with argMax(…, computed_at).
-- Partitioned by version, so an old version goes with one DROP PARTITION.
CREATE TABLE IF NOT EXISTS fitstream.activity_points (
    rules_version UInt32,
    user_id String,
    activity_id String,
    sport String,
    start_ts Int64,
    distance_m Float64,
    moving_s Float64,
    points Float64,
    deleted UInt8,
    computed_at UInt64
) ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY rules_version
ORDER BY (rules_version, user_id, activity_id);
