-- Who sees an activity (issue 13, PATCH /v1/activities/{id} visibility): `private` its athlete only;
-- `followers` (the default, what every activity was before) its athlete and the coaches they granted access;
-- `public` any signed-in caller who has its id. Read by GET /v1/activities (list and detail) and the exports.

-- Up Migration

ALTER TABLE activity_details
  ADD COLUMN visibility text NOT NULL DEFAULT 'followers'
    CHECK (visibility IN ('private', 'followers', 'public'));
CREATE INDEX activity_details_private ON activity_details (user_id) WHERE visibility = 'private';

-- Down Migration

DROP INDEX IF EXISTS activity_details_private;
ALTER TABLE activity_details DROP COLUMN IF EXISTS visibility;
