-- Activity deletion (issue 13, DELETE /v1/activities/{id}): a tombstone per deleted activity, written first
-- (the durable fact), kept for good. The worker drops any later record of the activity's session and never
-- finalises it again, so a late sample does not bring it back; the replay from the S3 raw archive skips it.
-- The worker looks tombstones up by session (device, client session id), which stays what it is whatever id
-- scheme the activity was stored under. The row is also the outbox of its ActivityDeleted event: purged_at
-- once ClickHouse's rows are gone, announced_at once activities.v1 acknowledged the event (the API's relay
-- finishes what a request did not).
-- No foreign key to users: like deleted_users it outlives an account deletion.

-- Up Migration

CREATE TABLE deleted_activities (
  activity_id   text        PRIMARY KEY,
  user_id       uuid        NOT NULL,
  device_id     text,                          -- null: the activity was never stored (deleted while processing)
  session_id    text,
  version       bigint      NOT NULL,          -- the latest version when deleted (0: none stored yet)
  deleted_at    timestamptz NOT NULL DEFAULT now(),
  purged_at     timestamptz,
  announced_at  timestamptz
);
-- what the worker asks for every flush: is any of these sessions deleted?
CREATE INDEX deleted_activities_session ON deleted_activities (device_id, session_id);
CREATE INDEX deleted_activities_pending ON deleted_activities (deleted_at)
  WHERE announced_at IS NULL OR purged_at IS NULL;

-- Down Migration

DROP TABLE IF EXISTS deleted_activities;
