-- Replaces `sessions` (dropped by 0013): every session the worker has seen, with the Kafka
-- partition that carries it and `seen_ms`, the worker's clock when a flush last carried it.
-- Partitioned by the month of `seen_ms`, so the recovery after a restart or rebalance
-- ("which sessions of my partitions were never announced?") reads only the months inside
-- WORKER_RECOVERY_WINDOW_H, where `sessions` was read whole, together with every announcement
-- ever made: a query whose cost and memory grew with all activities ever stored.
-- A session seen in two months has a row in each (FINAL merges within a partition only): read
-- the one with the highest seen_ms. Rows are never deleted while their session has sample rows
-- (a worker asks this table whether ClickHouse holds any row of a session yet, see
-- docs/worker-throughput.md).
CREATE TABLE IF NOT EXISTS fitstream.session_index (
    user_id String,
    device_id String,
    session_id String,
    sport String,
    kafka_partition UInt16,
    seen_ms Int64
) ENGINE = ReplacingMergeTree(seen_ms)
PARTITION BY toYYYYMM(toDate(toDateTime(intDiv(seen_ms, 1000))))
ORDER BY (device_id, session_id);

-- The sessions seen before this table existed count as seen now, so each of them is looked at by
-- the recovery for one window.
INSERT INTO fitstream.session_index (user_id, device_id, session_id, sport, kafka_partition, seen_ms)
SELECT user_id, device_id, session_id, sport, kafka_partition, toInt64(toUnixTimestamp(now())) * 1000
FROM fitstream.sessions FINAL;
