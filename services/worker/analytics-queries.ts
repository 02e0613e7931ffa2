/**
 * The example analytical queries of docs/analytics.md, verbatim (with the `fitstream.` database the
 * docs use). A test runs each on ClickHouse 18.16 and on current ClickHouse (chdb) and checks that
 * the docs still contain them, so the docs cannot go stale. No window functions (18.16 has none):
 * running totals and moving averages use arrays (groupArray + arrayCumSum / arraySlice).
 */
export const ANALYTICS_QUERIES = {
  dedupCheck: `SELECT count() AS rows, uniqExact(device_id, session_id, sample_key) AS identities
FROM fitstream.samples FINAL`,

  latestWithoutFinal: `SELECT user_id, activity_id,
       max(version) AS latest_version,
       argMax(distance_m, version) AS distance_m,
       argMax(moving_s, version) AS moving_s
FROM fitstream.activities
GROUP BY user_id, activity_id
ORDER BY user_id, activity_id`,

  weeklyAverages: `SELECT user_id,
       toMonday(day) AS week,
       count() AS activities,
       round(avg(distance_m), 1) AS avg_distance_m,
       round(avg(moving_s), 1) AS avg_moving_s,
       round(sum(distance_m) / greatest(sum(moving_s), 1), 3) AS speed_mps
FROM fitstream.activities FINAL
GROUP BY user_id, week
ORDER BY user_id, week`,

  runningTotals: `SELECT user_id, day, distance_m, cumulative_m
FROM
(
    SELECT user_id,
           groupArray(day) AS days,
           groupArray(d) AS dists,
           arrayCumSum(dists) AS cums
    FROM
    (
        SELECT user_id, day, sum(total_distance_m) AS d
        FROM fitstream.daily_user_stats
        GROUP BY user_id, day
        ORDER BY user_id, day
    )
    GROUP BY user_id
)
ARRAY JOIN days AS day, dists AS distance_m, cums AS cumulative_m
ORDER BY user_id, day`,

  movingAverage7: `SELECT user_id, day, distance_m, round(avg7_m, 1) AS avg7_distance_m
FROM
(
    SELECT user_id,
           groupArray(day) AS days,
           groupArray(d) AS dists,
           arrayMap(i -> arrayReduce('avg', arraySlice(dists, greatest(1, i - 6), i - greatest(1, i - 6) + 1)),
                    arrayEnumerate(dists)) AS avgs
    FROM
    (
        SELECT user_id, day, sum(total_distance_m) AS d
        FROM fitstream.daily_user_stats
        GROUP BY user_id, day
        ORDER BY user_id, day
    )
    GROUP BY user_id
)
ARRAY JOIN days AS day, dists AS distance_m, avgs AS avg7_m
ORDER BY user_id, day`,

  sportDistributions: `SELECT sport,
       count() AS activities,
       quantiles(0.1, 0.5, 0.9)(distance_m) AS distance_p10_p50_p90,
       quantiles(0.1, 0.5, 0.9)(moving_s) AS moving_p10_p50_p90,
       round(avg(avg_speed_mps), 3) AS mean_speed_mps
FROM fitstream.activities FINAL
GROUP BY sport
ORDER BY sport`,

  hrZonesOverTime: `SELECT user_id,
       toMonday(day) AS week,
       sum(hr_zones_s[1]) AS z1_s,
       sum(hr_zones_s[2]) AS z2_s,
       sum(hr_zones_s[3]) AS z3_s,
       sum(hr_zones_s[4]) AS z4_s,
       sum(hr_zones_s[5]) AS z5_s
FROM fitstream.activities FINAL
WHERE length(hr_zones_s) = 5
GROUP BY user_id, week
ORDER BY user_id, week`,

  sessionTrack: `SELECT ts, lat_smooth, lon_smooth, distance_m, speed, hr, flags
FROM fitstream.activity_samples
WHERE user_id = 'u-1' AND device_id = 'd-1' AND session_id = 's-1'
ORDER BY ts`,
} as const;

/** A query re-pointed from the docs' `fitstream.` database at another one (tests). */
export function inDatabase(sql: string, database: string): string {
  return sql.replace(/\bfitstream\./g, `${database}.`);
}
