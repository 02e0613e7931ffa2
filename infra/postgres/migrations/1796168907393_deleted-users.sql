-- Account deletion (issue 12): a tombstone per deleted account, kept after the users row is gone, so that
-- the replay from the S3 raw archive (services/worker/replay.ts) skips the account's records and nothing
-- rebuilds its data. purged_at: when every store the API and analysts read was cleared (ClickHouse,
-- Redis, PostgreSQL); null while a deletion is under way (a retry finishes it).

-- Up Migration

CREATE TABLE deleted_users (
  user_id     uuid PRIMARY KEY,                 -- no foreign key: it outlives the users row
  deleted_at  timestamptz NOT NULL DEFAULT now(),
  purged_at   timestamptz
);

-- Down Migration

DROP TABLE IF EXISTS deleted_users;
