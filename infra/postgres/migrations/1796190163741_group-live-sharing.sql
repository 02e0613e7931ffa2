-- Issue 19: a coach's live board shows the group members who chose to share their live sessions with the
-- group's staff (its owners and admins). Off unless the member turns it on (PATCH
-- /v1/groups/{id}/membership); it opens live sessions only, never activities, stats or streams; leaving the
-- group, being removed or turning it off ends it, and a staff member who stops being one loses it (access.ts
-- visibleLive, docs/security.md).

-- Up Migration

ALTER TABLE group_members ADD COLUMN share_live_with_staff boolean NOT NULL DEFAULT false;
-- who shares with whom: the members of a group who share, looked up by group (visibleLive, the board)
CREATE INDEX group_members_sharing_idx ON group_members (group_id) WHERE share_live_with_staff;

-- Down Migration

DROP INDEX IF EXISTS group_members_sharing_idx;
ALTER TABLE group_members DROP COLUMN IF EXISTS share_live_with_staff;
