-- `samples` holds each sample once, as received, written on arrival and never rewritten (the
-- cleaned values live in `activity_streams`, 0020). The table is rebuilt: 17 columns where it had
-- 26, none Nullable where it had 17 (each Nullable column is two more files in every part on 18.16,
-- which has no compact parts): an absent value is 0 and its bit in `present` is clear. Bits:
-- 1 seq (then sample_key is the seq), 2 lat, 4 lon, 8 alt, 16 acc, 32 speed_device,
-- 64 dist_device, 128 hr, 256 cadence, 512 power, 1024 lap. `samples_v` (below) gives the old
-- shape with NULLs and the cleaned columns joined from `activity_samples`.
-- Not re-runnable after its RENAME (18.16 has no conditional DDL): should it fail after that
-- statement, finish the last two statements by hand and record the file in default.schema_migrations.
CREATE TABLE IF NOT EXISTS fitstream.samples_next (
    user_id String,
    device_id String,
    session_id String,
    sport String,
    sample_key UInt64,
    ts Int64,
    lat Float64,
    lon Float64,
    alt Float32,
    acc Float32,
    speed_device Float32,
    dist_device Float32,
    hr UInt8,
    cadence UInt16,
    power UInt16,
    present UInt16,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(toDate(toDateTime(intDiv(ts, 1000))))
ORDER BY (user_id, device_id, session_id, sample_key);

-- The rows FINAL keeps, as raw rows (version 2^42 - ts: among copies of one seq the earliest device
-- time wins). A finalised session's rows held the cleaned HR (artefacts dropped): they keep it; a
-- replay from the S3 archive restores what the device sent.
INSERT INTO fitstream.samples_next (user_id, device_id, session_id, sport, sample_key, ts, lat, lon,
    alt, acc, speed_device, dist_device, hr, cadence, power, present, version)
SELECT user_id, device_id, session_id, sport, sample_key, ts, ifNull(lat, 0), ifNull(lon, 0),
    toFloat32(ifNull(alt, 0)), toFloat32(ifNull(acc, 0)), toFloat32(ifNull(speed_device, 0)),
    toFloat32(ifNull(dist_device, 0)), toUInt8(ifNull(hr, 0)), toUInt16(ifNull(cadence, 0)),
    toUInt16(ifNull(power, 0)),
    toUInt16(if(isNull(seq), 0, 1) + if(isNull(lat), 0, 2) + if(isNull(lon), 0, 4)
        + if(isNull(alt), 0, 8) + if(isNull(acc), 0, 16) + if(isNull(speed_device), 0, 32)
        + if(isNull(dist_device), 0, 64) + if(isNull(hr), 0, 128) + if(isNull(cadence), 0, 256)
        + if(isNull(power), 0, 512) + if(lap = 1, 1024, 0)),
    toUInt64(greatest(0, 4398046511104 - ts))
FROM fitstream.samples FINAL;

DROP TABLE IF EXISTS fitstream.samples_v;

RENAME TABLE fitstream.samples TO fitstream.samples_before_0021, fitstream.samples_next TO fitstream.samples;

DROP TABLE IF EXISTS fitstream.samples_before_0021;

-- Deduplicated samples in the shape `samples` FINAL had before 0021: the raw values with NULL for
-- absent ones, and the cleaned columns of the sample in the latest stream of its activity
-- (`cleaned` = 1; a sample that came after the last finalisation has cleaned = 0 and NULLs there).
-- `hr` is the cleaned HR where cleaned, as before. Convenient, not cheap: it joins every stream.
CREATE VIEW IF NOT EXISTS fitstream.samples_v AS
SELECT user_id, device_id, session_id, sport, sample_key,
    if(bitAnd(r_present, 1) = 0, NULL, toUInt32(sample_key)) AS seq,
    ts,
    if(bitAnd(r_present, 2) = 0, NULL, r_lat) AS lat,
    if(bitAnd(r_present, 4) = 0, NULL, r_lon) AS lon,
    lat_smooth,
    lon_smooth,
    if(bitAnd(r_present, 8) = 0, NULL, r_alt) AS alt,
    alt_smooth,
    if(bitAnd(r_present, 16) = 0, NULL, r_acc) AS acc,
    if(bitAnd(r_present, 32) = 0, NULL, r_speed_device) AS speed_device,
    if(bitAnd(r_present, 64) = 0, NULL, r_dist_device) AS dist_device,
    speed,
    distance_m,
    if(cleaned = 1, c_hr, if(bitAnd(r_present, 128) = 0, NULL, r_hr)) AS hr,
    if(bitAnd(r_present, 256) = 0, NULL, r_cadence) AS cadence,
    if(bitAnd(r_present, 512) = 0, NULL, r_power) AS power,
    toUInt8(bitAnd(r_present, 1024) != 0) AS lap,
    flags,
    cleaned,
    activity_version,
    r_version AS version
FROM
(
    SELECT user_id, device_id, session_id, sport, sample_key, ts, lat AS r_lat, lon AS r_lon,
        alt AS r_alt, acc AS r_acc, speed_device AS r_speed_device, dist_device AS r_dist_device,
        hr AS r_hr, cadence AS r_cadence, power AS r_power, present AS r_present, version AS r_version
    FROM fitstream.samples FINAL
) AS raw_rows
ANY LEFT JOIN
(
    SELECT user_id, device_id, session_id, sample_key, lat_smooth, lon_smooth, alt_smooth, speed,
        distance_m, hr AS c_hr, flags, activity_version, toUInt8(1) AS cleaned
    FROM fitstream.activity_samples
) AS cleaned_rows USING (user_id, device_id, session_id, sample_key);
