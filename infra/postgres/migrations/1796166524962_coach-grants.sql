-- Coach grants (issue 12): an athlete grants a coach, named by e-mail, access to their activities, stats,
-- streams and live sessions; the coach accepts; either side revokes. The grant is addressed to an e-mail
-- (not a user id) so that granting does not tell the athlete whether that e-mail has an account; the coach's
-- id is filled in when they accept. One open (unrevoked) grant per athlete and e-mail; a revoked one stays
-- as history and a new grant is a new row.

-- Up Migration

ALTER TABLE coach_grants DROP CONSTRAINT coach_grants_pkey;
ALTER TABLE coach_grants
  ADD COLUMN id           uuid NOT NULL DEFAULT gen_random_uuid(),
  ADD COLUMN coach_email  text,
  ADD COLUMN accepted_at  timestamptz,
  ALTER COLUMN coach_id DROP NOT NULL;
-- Rows from before grants could be accepted were written by an operator: they count as accepted.
UPDATE coach_grants g SET coach_email = lower(u.email), accepted_at = g.granted_at FROM users u WHERE u.id = g.coach_id;
ALTER TABLE coach_grants
  ALTER COLUMN coach_email SET NOT NULL,
  ADD PRIMARY KEY (id),
  ADD CHECK (coach_email = lower(coach_email)),
  ADD CHECK ((accepted_at IS NULL) = (coach_id IS NULL));
CREATE UNIQUE INDEX coach_grants_open_key ON coach_grants (athlete_id, coach_email) WHERE revoked_at IS NULL;
-- What visibleAthlete asks on every read of another athlete's data.
CREATE INDEX coach_grants_coach_id_idx ON coach_grants (coach_id, athlete_id) WHERE revoked_at IS NULL;
CREATE INDEX coach_grants_coach_email_idx ON coach_grants (coach_email) WHERE revoked_at IS NULL;

-- Down Migration

DROP INDEX IF EXISTS coach_grants_coach_email_idx;
DROP INDEX IF EXISTS coach_grants_coach_id_idx;
DROP INDEX IF EXISTS coach_grants_open_key;
DELETE FROM coach_grants WHERE coach_id IS NULL OR revoked_at IS NOT NULL;
ALTER TABLE coach_grants DROP CONSTRAINT coach_grants_pkey;
ALTER TABLE coach_grants DROP COLUMN accepted_at, DROP COLUMN coach_email, DROP COLUMN id;
ALTER TABLE coach_grants ALTER COLUMN coach_id SET NOT NULL, ADD PRIMARY KEY (coach_id, athlete_id);
