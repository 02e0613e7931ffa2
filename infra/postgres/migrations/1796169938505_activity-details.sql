-- What an athlete writes about an activity (issue 13, PATCH /v1/activities/{id}): name and notes, for every
-- activity however it came in (live, upload), keyed by the activity id the worker derives. An upload's name and
-- notes move here from activity_uploads, so that there is one place to read and edit them.

-- Up Migration

CREATE TABLE activity_details (
  activity_id  text        PRIMARY KEY,
  user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text,
  notes        text,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO activity_details (activity_id, user_id, name, notes)
  SELECT activity_id::text, user_id, name, notes FROM activity_uploads
  WHERE name IS NOT NULL OR notes IS NOT NULL
  ON CONFLICT (activity_id) DO NOTHING;
ALTER TABLE activity_uploads DROP COLUMN name, DROP COLUMN notes;

-- Down Migration

ALTER TABLE activity_uploads ADD COLUMN name text, ADD COLUMN notes text;
UPDATE activity_uploads u SET name = d.name, notes = d.notes FROM activity_details d
  WHERE d.activity_id = u.activity_id::text;
DROP TABLE IF EXISTS activity_details;
