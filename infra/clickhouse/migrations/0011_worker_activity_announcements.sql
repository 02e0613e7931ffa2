-- One row per activity version whose ActivityCreated/ActivityUpdated Kafka acknowledged (written
-- by the worker after the send). A session with an activity row but no announcement had its round
-- cut between the insert and the send: the worker recovers it like an unfinalised session and
-- announces it again (docs/worker-throughput.md). Not for analysts.
CREATE TABLE IF NOT EXISTS fitstream.activity_announcements (
    user_id String,
    device_id String,
    session_id String,
    version UInt64
) ENGINE = ReplacingMergeTree
ORDER BY (device_id, session_id, version);

-- Activities stored before this table existed were announced (their events went out first).
INSERT INTO fitstream.activity_announcements (user_id, device_id, session_id, version)
SELECT user_id, device_id, session_id, max(version) FROM fitstream.activities
GROUP BY user_id, device_id, session_id;
