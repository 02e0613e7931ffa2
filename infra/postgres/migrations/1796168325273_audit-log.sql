-- The audit of support and admin powers (issue 12): who used which power, on what, when, and what the API
-- answered. Written before the action (services/api/audit.ts), so an action without its record cannot
-- happen; the answer's status is filled in once it is sent. Rows outlive both the actor's and the
-- target's accounts: actor_email is kept, target_id is text without a foreign key.

-- Up Migration

CREATE TABLE audit_log (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
  actor_email  text NOT NULL,
  role         text NOT NULL CHECK (role IN ('support', 'admin')),
  action       text NOT NULL,                   -- e.g. challenge.create, support.user.read
  target_type  text NOT NULL,                   -- user, challenge, ...
  target_id    text,                            -- null when the target does not exist yet (a create)
  detail       jsonb NOT NULL DEFAULT '{}',
  request_id   text,
  status       smallint                         -- HTTP status of the answer; null until it was sent
);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, at);

-- Down Migration

DROP TABLE IF EXISTS audit_log;
