#!/usr/bin/env bash
# ClickHouse server CPU per INSERT into a copy of fitstream.samples (synthetic rows from numbers()).
#
#   bench/clickhouse-insert-cost.sh ROWS INSERTS [TCP_PORT] [PID]
#
# Creates bench_insert_cost.s (AS fitstream.samples), runs INSERTS inserts of ROWS rows each,
# prints the server's utime+stime per insert from /proc/PID/stat (default: the local stack's
# server), and drops the table. Used to find what an insert costs the server apart from the
# worker (docs/worker-throughput.md: file creation on ext4 without a journal).
set -euo pipefail
ROWS=${1:?rows}; N=${2:?inserts}; PORT=${3:-9000}
PID=${4:-$(cat "$(dirname "$0")/../.data/run/clickhouse.pid")}
q() { clickhouse-client --port "$PORT" -q "$1"; }
q "CREATE DATABASE IF NOT EXISTS bench_insert_cost"
q "DROP TABLE IF EXISTS bench_insert_cost.s"
q "CREATE TABLE bench_insert_cost.s AS fitstream.samples"
ticks() { awk '{print $14+$15}' "/proc/$PID/stat"; }
t0=$(ticks)
for i in $(seq 1 "$N"); do
  q "INSERT INTO bench_insert_cost.s SELECT concat('user-', toString(number % 50)), concat('dev-', toString(number % 50)),
     concat('sess-', toString(number % 50)), 'running', number + $i * 10000000, toUInt32(number), 1764000000000 + number * 1000,
     52.1 + number / 1e7, 4.3 + number / 1e7, 52.1, 4.3, 10, 10, 5, 3, number, 3, number, 150, 80, 200, 0, 0, 0, 1, 1
     FROM numbers($ROWS)"
done
t1=$(ticks)
q "DROP TABLE bench_insert_cost.s"
echo "rows=$ROWS inserts=$N server_cpu_ms_per_insert=$(( (t1 - t0) * 10 / N )) load=$(cut -d' ' -f1 /proc/loadavg)"
