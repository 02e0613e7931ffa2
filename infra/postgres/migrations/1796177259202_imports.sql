-- File imports (issue 13, POST /v1/imports; docs/imports.md). An import is one uploaded file (GPX, TCX, FIT,
-- gzip'd or not, or a zip of many) stored in S3 before the 202; a runner in the API process claims queued
-- imports (FOR UPDATE SKIP LOCKED, with a lease so that another process takes over a crashed one) and works
-- through the files. import_files holds one row per file once it is done, so a resumed import skips what is
-- done; imported_activities claims each activity before its records are sent, so a resume re-sends the same
-- records (same ids) and a second import of the same file, or of the same workout from another device, finds
-- it and counts a duplicate.

-- Up Migration

CREATE TABLE imports (
  id               uuid        PRIMARY KEY,
  user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  idempotency_key  text        NOT NULL,
  body_sha256      text        NOT NULL,
  object_key       text        NOT NULL,
  byte_size        bigint      NOT NULL,
  default_sport    text        NOT NULL,
  -- which runners take it: one deployment has one queue; the tests give each API of theirs its own, so that
  -- test files running side by side on one database never take each other's imports
  queue            text        NOT NULL DEFAULT 'default',
  status           text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  -- why the whole import failed (a zip that does not open, more entries than allowed); files fail one by one
  reason           text,
  detail           text,
  -- null until the upload was opened and its files counted
  files_total      integer,
  lease_owner      text,
  lease_until      timestamptz,
  attempts         integer     NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  UNIQUE (user_id, idempotency_key)
);
CREATE INDEX imports_pending_idx ON imports (queue, created_at) WHERE status IN ('queued', 'running');

CREATE TABLE import_files (
  import_id          uuid        NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  -- position in the order the runner works through the files (FIT before TCX before GPX, then by name)
  idx                integer     NOT NULL,
  name               text        NOT NULL,
  format             text,
  sha256             text,
  status             text        NOT NULL CHECK (status IN ('imported', 'duplicate', 'failed')),
  -- a failure's code, or a note on an imported file (sport_defaulted)
  reason             text,
  detail             text,
  points             integer     NOT NULL DEFAULT 0,
  activities_created integer     NOT NULL DEFAULT 0,
  duplicates_skipped integer     NOT NULL DEFAULT 0,
  activity_ids       uuid[]      NOT NULL DEFAULT '{}',
  done_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (import_id, idx)
);

CREATE TABLE imported_activities (
  activity_id    uuid        PRIMARY KEY,
  user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  import_id      uuid        NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
  file_idx       integer     NOT NULL,
  -- SHA-256 of the file's own bytes (after gunzip) and the activity's index in it: the same file twice is one
  content_key    text        NOT NULL,
  format         text        NOT NULL,
  sport          text        NOT NULL,
  start_ts       bigint      NOT NULL,
  end_ts         bigint      NOT NULL,
  -- the device's own totals as the file states them (FIT session, TCX laps), shown beside Fitstream's numbers
  device_totals  jsonb,
  produced_at    timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, content_key)
);
-- the overlap search of the two-sources dedupe
CREATE INDEX imported_activities_time_idx ON imported_activities (user_id, start_ts);

-- Down Migration

DROP TABLE IF EXISTS imported_activities;
DROP TABLE IF EXISTS import_files;
DROP TABLE IF EXISTS imports;
