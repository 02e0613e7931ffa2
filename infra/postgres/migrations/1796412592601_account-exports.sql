-- Account exports as a job (issue 13, POST /v1/users/me/exports; docs/exports.md): for an account too large to
-- download in one long request. A runner in the API process claims queued exports (FOR UPDATE SKIP LOCKED,
-- under a lease so that another process takes over a crashed one), writes the same zip as
-- GET /v1/users/me/export to S3 under its object_key, and marks the export done; the zip is then downloaded
-- from GET /v1/users/me/exports/{id}/download. The row goes with the account (ON DELETE CASCADE), its object
-- before it (services/api/account-deletion.ts).

-- Up Migration

CREATE TABLE account_exports (
  id           uuid        PRIMARY KEY,
  user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  status       text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
  reason       text,
  detail       text,
  object_key   text        NOT NULL,
  -- which runners take it (as imports.queue: one deployment has one; each test stack has its own)
  queue        text        NOT NULL DEFAULT 'default',
  -- the zip's size once stored
  byte_size    bigint,
  lease_owner  text,
  lease_until  timestamptz,
  attempts     integer     NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX account_exports_user_idx ON account_exports (user_id, created_at);
CREATE INDEX account_exports_pending_idx ON account_exports (queue, created_at) WHERE status IN ('queued', 'running');

-- Down Migration

DROP TABLE account_exports;
