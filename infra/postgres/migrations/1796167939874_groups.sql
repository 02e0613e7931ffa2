-- Groups (issue 12): teams, departments and clubs that leaderboards and group live views are built on.
-- Members have a role (owner, admin, member); people join by an invitation to their e-mail or by the
-- group's join code. Membership shows the members to each other, never their activities (a coach grant
-- does that).

-- Up Migration

CREATE TABLE groups (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind        text NOT NULL CHECK (kind IN ('team', 'department', 'club')),
  join_code   text NOT NULL UNIQUE,              -- random, shown to owners and admins
  created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_members (
  group_id   uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_id_idx ON group_members (user_id);

-- Addressed to an e-mail, like coach grants, so that inviting does not tell whether it has an account.
CREATE TABLE group_invites (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  group_id     uuid NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  email        text NOT NULL CHECK (email = lower(email)),
  invited_by   uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  accepted_at  timestamptz
);
CREATE UNIQUE INDEX group_invites_open_key ON group_invites (group_id, email) WHERE accepted_at IS NULL;
CREATE INDEX group_invites_email_idx ON group_invites (email) WHERE accepted_at IS NULL;

-- Down Migration

DROP TABLE IF EXISTS group_invites;
DROP TABLE IF EXISTS group_members;
DROP TABLE IF EXISTS groups;
