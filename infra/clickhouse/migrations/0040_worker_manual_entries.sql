-- Manual entries (POST /v1/activities without points or sets, issue 13): the figures the athlete states,
-- one row per (device, session, start_ts) — an upload's session holds one. The worker reads them back at
-- finalisation as it reads strength sets (pipelines/stages/manual.ts rolls them up).
CREATE TABLE IF NOT EXISTS fitstream.manual_entries (
    user_id String,
    device_id String,
    session_id String,
    start_ts Int64,
    duration_s Float64,
    distance_m Float64,
    elev_gain_m Nullable(Float64),
    calories Nullable(Float64)
) ENGINE = ReplacingMergeTree
ORDER BY (device_id, session_id, start_ts);
