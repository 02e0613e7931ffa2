#!/usr/bin/env bash
# Server time of the API's ClickHouse reads of `activities` and the alternatives measured for them (issue 15),
# over the loader's database (bench/api/loader.ts): each query N times in a row (no concurrency), over N
# different athletes and one activity of each, logged (log_queries=1) and summarised from system.query_log:
# mean and p99 server time, rows and bytes read. Compares FINAL with the LIMIT 1 BY reading the API uses
# (services/api/latest-activities.ts) and the detail read by id alone with the read through activity_owners.
#
#   flock /tmp/fitstream-bench.lock bench/api/query-variants.sh [N=50] [database=bench_api]
set -euo pipefail
N=${1:-50}
DB=${2:-bench_api}
CH=${CLICKHOUSE_URL:-http://127.0.0.1:8123}
q() { curl -sS "$CH/" --data-binary "$1"; }
mapfile -t USERS < <(q "SELECT DISTINCT user_id FROM $DB.activities LIMIT $N")
mapfile -t ACTS < <(q "SELECT any(activity_id) FROM $DB.activities WHERE user_id IN ('$(IFS=,; echo "${USERS[*]}" | sed "s/,/','/g")') GROUP BY user_id ORDER BY user_id")
mapfile -t USERS < <(q "SELECT DISTINCT user_id FROM $DB.activities WHERE user_id IN ('$(IFS=,; echo "${USERS[*]}" | sed "s/,/','/g")') ORDER BY user_id")
COLS="activity_id, user_id, sport, version, start_ts, end_ts, elapsed_s, moving_s, distance_m, elev_gain_m, avg_speed_mps, hr_avg, calories, polyline"
PCOLS="start_ts, distance_m, moving_s, elev_gain_m, calories, power_avg"
FROM=$(( $(date +%s) * 1000 - 200 * 86400000 ))
echo "# $(date -u +%FT%TZ), $(uptime | sed 's/.*load average/load average/'), N=$N, $(q 'SELECT version()')"
echo "| query | client mean ms | server mean ms | server p99 ms | rows read | KiB read |"
echo "|---|---|---|---|---|---|"
run() { # name, SQL with @U@ (athlete) and @A@ (one of their activities)
  local name=$1 tpl=$2 tag="qv_${RANDOM}${RANDOM}" t0 t1 i sql
  t0=$(date +%s%N)
  for ((i = 0; i < N; i++)); do
    sql=${tpl//@U@/${USERS[$i]}}
    sql=${sql//@A@/${ACTS[$i]}}
    curl -sS "$CH/?log_queries=1&query_id=${tag}_$i" --data-binary "$sql FORMAT JSONEachRow" >/dev/null
  done
  t1=$(date +%s%N)
  q "SYSTEM FLUSH LOGS" >/dev/null
  echo "| $name | $(( (t1 - t0) / N / 1000000 )) | $(q "SELECT concat(toString(round(avg(query_duration_ms), 1)), ' | ', toString(quantile(0.99)(query_duration_ms)), ' | ', toString(round(avg(read_rows))), ' | ', toString(round(avg(read_bytes) / 1024))) FROM system.query_log WHERE type = 2 AND query_id LIKE '${tag}_%'") |"
}
run "detail: FINAL, activity_id alone (before)" "SELECT user_id, device_id, session_id, sport, version, summary FROM $DB.activities FINAL WHERE activity_id = '@A@' LIMIT 1"
run "detail: owner from activity_owners, FINAL" "SELECT user_id, device_id, session_id, sport, version, summary FROM $DB.activities FINAL WHERE user_id IN (SELECT owner_id FROM $DB.activity_owners WHERE activity_id = '@A@') AND activity_id = '@A@' LIMIT 1"
run "detail: owner from activity_owners, highest version (now)" "SELECT user_id, device_id, session_id, sport, version, summary FROM $DB.activities WHERE user_id IN (SELECT owner_id FROM $DB.activity_owners WHERE activity_id = '@A@') AND activity_id = '@A@' ORDER BY version DESC LIMIT 1"
run "detail: owner known (floor)" "SELECT user_id, device_id, session_id, sport, version, summary FROM $DB.activities WHERE user_id = '@U@' AND activity_id = '@A@' ORDER BY version DESC LIMIT 1"
run "list: FINAL (before)" "SELECT $COLS FROM $DB.activities FINAL WHERE user_id = '@U@' ORDER BY start_ts DESC LIMIT 20"
run "list: LIMIT 1 BY activity_id (now)" "SELECT $COLS FROM (SELECT $COLS FROM $DB.activities WHERE user_id = '@U@' ORDER BY activity_id, version DESC LIMIT 1 BY activity_id) ORDER BY start_ts DESC LIMIT 20"
run "progress: FINAL (before)" "SELECT $PCOLS FROM $DB.activities FINAL WHERE user_id = '@U@' AND start_ts >= $FROM"
run "progress: argMax per activity" "SELECT s, d, m, e, c, p FROM (SELECT argMax(start_ts, version) AS s, argMax(distance_m, version) AS d, argMax(moving_s, version) AS m, argMax(elev_gain_m, version) AS e, argMax(calories, version) AS c, argMax(power_avg, version) AS p FROM $DB.activities WHERE user_id = '@U@' GROUP BY activity_id) WHERE s >= $FROM"
run "progress: LIMIT 1 BY activity_id (now)" "SELECT $PCOLS FROM (SELECT activity_id, version, $PCOLS FROM $DB.activities WHERE user_id = '@U@' ORDER BY activity_id, version DESC LIMIT 1 BY activity_id) WHERE start_ts >= $FROM"
run "bare: count() on the key" "SELECT count() FROM $DB.activities WHERE user_id = '@U@'"
run "bare: SELECT 1" "SELECT 1"
