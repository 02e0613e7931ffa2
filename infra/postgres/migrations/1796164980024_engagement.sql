-- Goals, streaks and streak challenges (issue 14): the definitions the API writes (goals, challenges,
-- challenge_participants) and the read model the engagement service keeps from activities.v1
-- (docs/engagement.md). goals, challenges and challenge_participants were unused before this
-- migration, so challenges are recreated with their rule and window.

-- Up Migration

ALTER TABLE goals DROP CONSTRAINT goals_kind_check;
UPDATE goals SET kind = 'count' WHERE kind = 'activities';
ALTER TABLE goals ADD CONSTRAINT goals_kind_check
  CHECK (kind IN ('distance', 'duration', 'count', 'elevation', 'calories'));
ALTER TABLE goals DROP CONSTRAINT goals_period_check;
ALTER TABLE goals ADD CONSTRAINT goals_period_check
  CHECK (period IN ('day', 'week', 'month', 'year', 'custom'));
ALTER TABLE goals ADD CONSTRAINT goals_custom_range_check CHECK (period <> 'custom' OR ends_on IS NOT NULL);
ALTER TABLE goals ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

DROP TABLE challenge_participants;
DROP TABLE challenges;

CREATE TABLE challenges (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
  name            text NOT NULL,
  description     text NOT NULL DEFAULT '',
  rule_kind       text NOT NULL CHECK (rule_kind IN
                    ('activities_per_week', 'distance_per_day', 'total_distance', 'total_duration')),
  per_period      double precision NOT NULL DEFAULT 0 CHECK (per_period >= 0),  -- activities a week, metres a day
  target          double precision NOT NULL CHECK (target > 0),                -- weeks, days, metres or seconds
  sport           text,                                                        -- NULL = every sport
  min_distance_m  double precision NOT NULL DEFAULT 0 CHECK (min_distance_m >= 0),
  min_moving_s    double precision NOT NULL DEFAULT 0 CHECK (min_moving_s >= 0),
  milestones      double precision[] NOT NULL DEFAULT '{}',                    -- in the rule's unit
  start_date      date NOT NULL,
  end_date        date NOT NULL,
  timezone        text,                                  -- NULL: each athlete's own zone
  closed_at       timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (end_date >= start_date)
);

-- One row per athlete who ever joined; `state` changes only through the participant state machine
-- (pipelines/engagement/challenges.ts). Leaving keeps the row (state unjoined) and its progress.
CREATE TABLE challenge_participants (
  challenge_id  uuid NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  state         text NOT NULL CHECK (state IN ('unjoined', 'joined', 'completed', 'not_completed')),
  value         double precision NOT NULL DEFAULT 0,
  milestones    double precision[] NOT NULL DEFAULT '{}',
  forced        boolean NOT NULL DEFAULT false,
  joined_at     timestamptz,
  left_at       timestamptz,
  completed_at  timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (challenge_id, user_id)
);
CREATE INDEX challenge_participants_user_id_idx ON challenge_participants (user_id);

-- The athlete's time zone and first day of the week as the engagement service saw them change: an
-- activity's local date uses the zone in force at its start, so a change applies from then on.
CREATE TABLE engagement_timezones (
  user_id         uuid NOT NULL,
  effective_from  timestamptz NOT NULL,
  timezone        text NOT NULL,
  week_start      smallint NOT NULL CHECK (week_start BETWEEN 0 AND 6),  -- 0 = Sunday
  PRIMARY KEY (user_id, effective_from)
);

-- Per activity, the winner of every event seen: highest (version, deleted).
CREATE TABLE engagement_activities (
  activity_id  text PRIMARY KEY,
  user_id      uuid NOT NULL,
  version      bigint NOT NULL,
  deleted      boolean NOT NULL,
  sport        text NOT NULL DEFAULT '',
  start_ts     bigint NOT NULL DEFAULT 0,      -- ms since epoch (UTC)
  local_date   date,                           -- NULL once deleted
  distance_m   double precision NOT NULL DEFAULT 0,
  moving_s     double precision NOT NULL DEFAULT 0,
  elevation_m  double precision NOT NULL DEFAULT 0,
  calories     double precision NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engagement_activities_user_idx ON engagement_activities (user_id);

-- Per goal and period with at least one counted activity (or one achieved once).
CREATE TABLE goal_periods (
  goal_id         uuid NOT NULL REFERENCES goals (id) ON DELETE CASCADE,
  period_start    date NOT NULL,
  period_end      date NOT NULL,
  value           double precision NOT NULL,
  activities      integer NOT NULL,
  achieved        boolean NOT NULL,
  achievements    integer NOT NULL DEFAULT 0,  -- GoalAchieved published for this period so far
  crossed_by      text,                        -- activity that reached the target
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (goal_id, period_start)
);

-- The last run and the longest run of counted days or weeks, per sport ('' = every sport). Whether
-- the last run is still current depends on the clock, so readers decide (API: today or yesterday).
CREATE TABLE streaks (
  user_id         uuid NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('daily', 'weekly')),
  sport           text NOT NULL,
  last_length     integer NOT NULL,
  last_start      date NOT NULL,
  last_end        date NOT NULL,
  longest_length  integer NOT NULL,
  longest_start   date NOT NULL,
  longest_end     date NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, kind, sport)
);

-- Users whose read model must be recomputed (a goal or challenge changed, support asked): the API
-- writes here in the transaction of its change; the engagement service drains it.
CREATE TABLE engagement_recompute (
  user_id       uuid PRIMARY KEY,
  requested_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox of goals.v1: written in the transaction of the state change, one row per fact
-- (fact_key), published after. Ids are taken under a transaction-level advisory lock, so they commit
-- in id order and the publisher's cursor never passes a row that is not committed yet.
CREATE TABLE engagement_outbox (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fact_key      text NOT NULL UNIQUE,
  record        text NOT NULL,                 -- Avro record name
  message_key   text NOT NULL,                 -- Kafka key (user id)
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX engagement_outbox_unpublished_idx ON engagement_outbox (id) WHERE published_at IS NULL;

-- Down Migration

DROP TABLE IF EXISTS engagement_outbox;
DROP TABLE IF EXISTS engagement_recompute;
DROP TABLE IF EXISTS streaks;
DROP TABLE IF EXISTS goal_periods;
DROP TABLE IF EXISTS engagement_activities;
DROP TABLE IF EXISTS engagement_timezones;
DROP TABLE IF EXISTS challenge_participants;
DROP TABLE IF EXISTS challenges;
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
ALTER TABLE goals DROP COLUMN updated_at;
ALTER TABLE goals DROP CONSTRAINT goals_custom_range_check;
ALTER TABLE goals DROP CONSTRAINT goals_period_check;
ALTER TABLE goals ADD CONSTRAINT goals_period_check CHECK (period IN ('week', 'month', 'year', 'custom'));
ALTER TABLE goals DROP CONSTRAINT goals_kind_check;
UPDATE goals SET kind = 'activities' WHERE kind = 'count';
ALTER TABLE goals ADD CONSTRAINT goals_kind_check CHECK (kind IN ('distance', 'duration', 'activities', 'elevation'));
