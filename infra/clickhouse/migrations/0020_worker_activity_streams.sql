-- The cleaned result of a session, written once per activity version as ONE row of arrays (where
-- finalisation used to rewrite every sample row of `samples` with its cleaned values): element i of
-- every array is the i-th cleaned sample, in the activity's canonical order (device time, seq). What
-- GET /v1/activities/{id}/streams reads (one row), and what `activity_samples` (below) ARRAY JOINs
-- into one row per cleaned sample. Keyed like `activities`: FINAL keeps the highest version.
-- No Nullable (each would add two files per part): a value that is absent is 0 in its array and
-- its bit in `present` is clear. Bits (shared with `samples.present`, docs/analytics.md):
-- 1 seq, 2 lat, 4 lon, 8 alt, 128 hr, 256 cadence, 512 power, 2048 lat_smooth, 4096 lon_smooth,
-- 8192 alt_smooth, 16384 speed, 32768 distance_m.
CREATE TABLE IF NOT EXISTS fitstream.activity_streams (
    activity_id String,
    user_id String,
    device_id String,
    session_id String,
    sport String,
    version UInt64,
    sample_key Array(UInt64),
    ts Array(Int64),
    lat Array(Float64),
    lon Array(Float64),
    lat_smooth Array(Float64),
    lon_smooth Array(Float64),
    alt Array(Float32),
    alt_smooth Array(Float32),
    speed Array(Float32),
    distance_m Array(Float64),
    hr Array(UInt8),
    cadence Array(UInt16),
    power Array(UInt16),
    flags Array(UInt8),
    present Array(UInt16)
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, activity_id);

-- Back-fill from the cleaned rows that `samples` holds (cleaned = 1, the version FINAL keeps), one
-- stream per session and activity version, under the id its activity row carries. Re-runnable: a
-- second run inserts equal rows, which FINAL collapses.
INSERT INTO fitstream.activity_streams (activity_id, user_id, device_id, session_id, sport, version,
    sample_key, ts, lat, lon, lat_smooth, lon_smooth, alt, alt_smooth, speed, distance_m, hr, cadence,
    power, flags, present)
SELECT activity_id, user_id, device_id, session_id, sport, activity_version,
    arrayMap(r -> tupleElement(r, 2), rs),
    arrayMap(r -> tupleElement(r, 1), rs),
    arrayMap(r -> tupleElement(r, 3), rs),
    arrayMap(r -> tupleElement(r, 4), rs),
    arrayMap(r -> tupleElement(r, 5), rs),
    arrayMap(r -> tupleElement(r, 6), rs),
    arrayMap(r -> toFloat32(tupleElement(r, 7)), rs),
    arrayMap(r -> toFloat32(tupleElement(r, 8)), rs),
    arrayMap(r -> toFloat32(tupleElement(r, 9)), rs),
    arrayMap(r -> tupleElement(r, 10), rs),
    arrayMap(r -> toUInt8(tupleElement(r, 11)), rs),
    arrayMap(r -> toUInt16(tupleElement(r, 12)), rs),
    arrayMap(r -> toUInt16(tupleElement(r, 13)), rs),
    arrayMap(r -> tupleElement(r, 14), rs),
    arrayMap(r -> toUInt16(tupleElement(r, 15)), rs)
FROM
(
    SELECT user_id, device_id, session_id, any(sport) AS sport, activity_version,
        arraySort(groupArray((ts, sample_key, ifNull(lat, 0), ifNull(lon, 0), ifNull(lat_smooth, 0),
            ifNull(lon_smooth, 0), ifNull(alt, 0), ifNull(alt_smooth, 0), ifNull(speed, 0),
            ifNull(distance_m, 0), ifNull(hr, 0), ifNull(cadence, 0), ifNull(power, 0), flags,
            if(isNull(seq), 0, 1) + if(isNull(lat), 0, 2) + if(isNull(lon), 0, 4) + if(isNull(alt), 0, 8)
            + if(isNull(hr), 0, 128) + if(isNull(cadence), 0, 256) + if(isNull(power), 0, 512)
            + if(isNull(lat_smooth), 0, 2048) + if(isNull(lon_smooth), 0, 4096)
            + if(isNull(alt_smooth), 0, 8192) + if(isNull(speed), 0, 16384)
            + if(isNull(distance_m), 0, 32768)))) AS rs
    FROM fitstream.samples FINAL
    WHERE cleaned = 1
    GROUP BY user_id, device_id, session_id, activity_version
) AS cleaned_rows
ANY INNER JOIN
(
    SELECT user_id, device_id, session_id, argMax(activity_id, version) AS activity_id
    FROM fitstream.activities
    GROUP BY user_id, device_id, session_id
) AS ids USING (user_id, device_id, session_id);

-- One row per cleaned sample of the latest version of every activity: the streams ARRAY JOINed,
-- absent values as NULL (what analysts read instead of the cleaned rows `samples` used to hold).
CREATE VIEW IF NOT EXISTS fitstream.activity_samples AS
SELECT activity_id, user_id, device_id, session_id, sport, activity_version,
    e_key AS sample_key,
    if(bitAnd(e_present, 1) = 0, NULL, toUInt32(e_key)) AS seq,
    e_ts AS ts,
    if(bitAnd(e_present, 2) = 0, NULL, e_lat) AS lat,
    if(bitAnd(e_present, 4) = 0, NULL, e_lon) AS lon,
    if(bitAnd(e_present, 2048) = 0, NULL, e_lat_smooth) AS lat_smooth,
    if(bitAnd(e_present, 4096) = 0, NULL, e_lon_smooth) AS lon_smooth,
    if(bitAnd(e_present, 8) = 0, NULL, e_alt) AS alt,
    if(bitAnd(e_present, 8192) = 0, NULL, e_alt_smooth) AS alt_smooth,
    if(bitAnd(e_present, 16384) = 0, NULL, e_speed) AS speed,
    if(bitAnd(e_present, 32768) = 0, NULL, e_distance_m) AS distance_m,
    if(bitAnd(e_present, 128) = 0, NULL, e_hr) AS hr,
    if(bitAnd(e_present, 256) = 0, NULL, e_cadence) AS cadence,
    if(bitAnd(e_present, 512) = 0, NULL, e_power) AS power,
    e_flags AS flags
FROM
(
    SELECT activity_id, user_id, device_id, session_id, sport, version AS activity_version,
        e_key, e_ts, e_lat, e_lon, e_lat_smooth, e_lon_smooth, e_alt, e_alt_smooth, e_speed,
        e_distance_m, e_hr, e_cadence, e_power, e_flags, e_present
    FROM fitstream.activity_streams FINAL
    ARRAY JOIN sample_key AS e_key, ts AS e_ts, lat AS e_lat, lon AS e_lon, lat_smooth AS e_lat_smooth,
        lon_smooth AS e_lon_smooth, alt AS e_alt, alt_smooth AS e_alt_smooth, speed AS e_speed,
        distance_m AS e_distance_m, hr AS e_hr, cadence AS e_cadence, power AS e_power,
        flags AS e_flags, present AS e_present
);
