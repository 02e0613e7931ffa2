-- Initial relational schema of the API (PostgreSQL 15).
-- Applied by node-pg-migrate (infra/local/up, or: npm run db:migrate style
--   DATABASE_URL=postgres://fitstream:fitstream@127.0.0.1:5432/fitstream \
--   npx node-pg-migrate up -m infra/postgres/migrations).
-- To change the schema, ADD a new file (npx node-pg-migrate create <name> -j sql
-- -m infra/postgres/migrations); never edit an applied one.

-- Up Migration

CREATE TABLE users (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email          text NOT NULL,
  name           text NOT NULL,
  password_hash  text,
  birth_year     smallint CHECK (birth_year BETWEEN 1900 AND 2100),
  weight_kg      numeric(5,2) CHECK (weight_kg > 0 AND weight_kg < 500),
  max_hr         smallint CHECK (max_hr BETWEEN 60 AND 250),
  resting_hr     smallint CHECK (resting_hr BETWEEN 20 AND 150),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
-- emails are unique case-insensitively
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE devices (
  id            text PRIMARY KEY,                 -- device id, also the MQTT client/topic id
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          text NOT NULL DEFAULT '',
  token_hash    text NOT NULL,                    -- hash of the device token, never the token
  revoked_at    timestamptz,
  last_seen_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user_id_idx ON devices (user_id);
CREATE UNIQUE INDEX devices_token_hash_key ON devices (token_hash);

CREATE TABLE goals (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('distance', 'duration', 'activities', 'elevation')),
  sport        text,                              -- NULL = all sports
  period       text NOT NULL CHECK (period IN ('week', 'month', 'year', 'custom')),
  target       double precision NOT NULL CHECK (target > 0),  -- m, s, count or m
  starts_on    date NOT NULL DEFAULT current_date,
  ends_on      date,
  achieved_at  timestamptz,
  archived_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX goals_user_id_idx ON goals (user_id);

CREATE TABLE coach_grants (
  coach_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  athlete_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  PRIMARY KEY (coach_id, athlete_id),
  CHECK (coach_id <> athlete_id)
);
CREATE INDEX coach_grants_athlete_id_idx ON coach_grants (athlete_id);

CREATE TABLE challenges (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name        text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('distance', 'duration', 'activities', 'elevation')),
  sport       text,
  target      double precision CHECK (target > 0),
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);

CREATE TABLE challenge_participants (
  challenge_id  uuid NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  joined_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (challenge_id, user_id)
);
CREATE INDEX challenge_participants_user_id_idx ON challenge_participants (user_id);

CREATE TABLE webhooks (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  url               text NOT NULL,
  secret            text NOT NULL,                -- HMAC signing secret
  events            text[] NOT NULL DEFAULT '{}', -- e.g. {activity.created,goal.achieved}
  active            boolean NOT NULL DEFAULT true,
  failure_count     integer NOT NULL DEFAULT 0,
  last_delivery_at  timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_user_id_idx ON webhooks (user_id);

CREATE TABLE idempotency_keys (
  scope            text NOT NULL,                 -- e.g. user id or 'POST /activities'
  key              text NOT NULL,                 -- Idempotency-Key header
  request_hash     text NOT NULL,                 -- same key + different body = 422
  response_status  integer,
  response_body    jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- Down Migration

DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS webhooks;
DROP TABLE IF EXISTS challenge_participants;
DROP TABLE IF EXISTS challenges;
DROP TABLE IF EXISTS coach_grants;
DROP TABLE IF EXISTS goals;
DROP TABLE IF EXISTS devices;
DROP TABLE IF EXISTS users;
