-- Tables written by services/worker (see docs/analytics.md for every column and how to query).
-- Runs on ClickHouse 18.16 and current ClickHouse: no DateTime64 (times are Int64 ms), no TTL,
-- no Map/JSON (nested lists are JSON text in String columns), no LowCardinality.
-- Every table is a ReplacingMergeTree keyed on the record's identity, so re-delivered,
-- duplicated or replayed input collapses: read with FINAL (or argMax) or through the *_v views.

-- One row per sample identity (device_id, session_id, sample_key = seq, or device time when
-- the device sends no seq). Written raw on arrival (cleaned = 0) and rewritten with the cleaned
-- values when the session is finalised (cleaned = 1, higher version), so FINAL returns the
-- cleaned row once it exists.
CREATE TABLE IF NOT EXISTS fitstream.samples (
    user_id String,
    device_id String,
    session_id String,
    sport String,
    sample_key UInt64,
    seq Nullable(UInt32),
    ts Int64,
    lat Nullable(Float64),
    lon Nullable(Float64),
    lat_smooth Nullable(Float64),
    lon_smooth Nullable(Float64),
    alt Nullable(Float32),
    alt_smooth Nullable(Float32),
    acc Nullable(Float32),
    speed_device Nullable(Float32),
    dist_device Nullable(Float32),
    speed Nullable(Float32),
    distance_m Nullable(Float64),
    hr Nullable(UInt8),
    cadence Nullable(UInt16),
    power Nullable(UInt16),
    lap UInt8,
    flags UInt8,
    cleaned UInt8,
    activity_version UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(toDate(toDateTime(intDiv(ts, 1000))))
ORDER BY (user_id, device_id, session_id, sample_key);

-- Session start/pause/resume/end/lap messages, one row per (device, session, ts, kind).
CREATE TABLE IF NOT EXISTS fitstream.session_controls (
    user_id String,
    device_id String,
    session_id String,
    sport String,
    kind String,
    ts Int64
) ENGINE = ReplacingMergeTree
ORDER BY (device_id, session_id, ts, kind);

-- Strength sets, one row per (device, session, start_ts, exercise).
CREATE TABLE IF NOT EXISTS fitstream.strength_sets (
    user_id String,
    device_id String,
    session_id String,
    exercise String,
    reps UInt32,
    weight_kg Nullable(Float64),
    start_ts Int64,
    end_ts Nullable(Int64)
) ENGINE = ReplacingMergeTree
ORDER BY (device_id, session_id, start_ts, exercise);

-- Every session the worker has seen, with the Kafka partition that carries it (so the worker
-- that owns the partition finalises it after an inactivity timeout, even after a restart).
CREATE TABLE IF NOT EXISTS fitstream.sessions (
    user_id String,
    device_id String,
    session_id String,
    sport String,
    kafka_partition UInt16
) ENGINE = ReplacingMergeTree
ORDER BY (device_id, session_id);

-- One row per activity and version; FINAL keeps the highest version.
CREATE TABLE IF NOT EXISTS fitstream.activities (
    activity_id String,
    user_id String,
    device_id String,
    session_id String,
    sport String,
    version UInt64,
    algorithm_version String,
    day Date,
    start_ts Int64,
    end_ts Int64,
    elapsed_s Float64,
    moving_s Float64,
    distance_m Float64,
    device_distance_m Nullable(Float64),
    raw_distance_m Float64,
    avg_speed_mps Float64,
    max_speed_mps Float64,
    avg_pace_s_per_km Nullable(Float64),
    elev_gain_m Float64,
    elev_loss_m Float64,
    min_alt_m Nullable(Float64),
    max_alt_m Nullable(Float64),
    hr_avg Nullable(Float64),
    hr_max Nullable(Float64),
    hr_zones_s Array(Float64),
    hr_trimp Nullable(Float64),
    hr_max_used Nullable(Float64),
    hr_max_source String,
    cadence_avg Nullable(Float64),
    power_avg Nullable(Float64),
    power_max Nullable(Float64),
    normalized_power Nullable(Float64),
    calories Float64,
    calories_method String,
    polyline String,
    laps String,
    splits_km String,
    splits_mile String,
    best_efforts String,
    strength String,
    sample_count UInt32,
    rejected_count UInt32,
    duplicate_count UInt32,
    summary String
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, activity_id);

-- Deduplicated views: what analysts and the API read.
CREATE VIEW IF NOT EXISTS fitstream.samples_v AS SELECT * FROM fitstream.samples FINAL;

CREATE VIEW IF NOT EXISTS fitstream.activities_v AS SELECT * FROM fitstream.activities FINAL;

-- Daily per-user, per-sport roll-up of the latest version of every activity (day = UTC date
-- of the activity's start). A view over activities FINAL, so it is never stale and never
-- double counts; per-user filters hit the activities primary key.
CREATE VIEW IF NOT EXISTS fitstream.daily_user_stats AS
SELECT
    user_id,
    day,
    sport,
    count() AS activities,
    sum(distance_m) AS total_distance_m,
    sum(moving_s) AS total_moving_s,
    sum(elapsed_s) AS total_elapsed_s,
    sum(elev_gain_m) AS total_elev_gain_m,
    sum(calories) AS total_calories,
    max(distance_m) AS longest_distance_m,
    sumIf(hr_avg * moving_s, isNotNull(hr_avg)) AS hr_weighted_sum,
    sumIf(moving_s, isNotNull(hr_avg)) AS hr_moving_s,
    sum(sample_count) AS total_samples
FROM fitstream.activities FINAL
GROUP BY user_id, day, sport;
