-- One-shot activity uploads (issue 13): the caller's idempotency key -> the hash of the body it came with and
-- the activity id derived from both, so a retry with the same body gets the same answer and a reuse of the key
-- with another body is refused (409). produced_at is set once Kafka acknowledged every record of the upload:
-- until then a retry sends them again (the worker collapses the copies on the sample identity).

-- Up Migration

CREATE TABLE activity_uploads (
  user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  idempotency_key  text        NOT NULL,
  body_sha256      text        NOT NULL,
  activity_id      uuid        NOT NULL,
  kind             text        NOT NULL CHECK (kind IN ('recorded', 'manual', 'strength')),
  name             text,
  notes            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  produced_at      timestamptz,
  PRIMARY KEY (user_id, idempotency_key)
);
-- GET /v1/activities/{id} of an upload that the worker has not stored yet.
CREATE UNIQUE INDEX activity_uploads_activity_id_idx ON activity_uploads (activity_id);

-- Down Migration

DROP TABLE IF EXISTS activity_uploads;
