-- Points rules (issue 15): versioned, published by admins (POST /v1/points-rules, audited), never edited.
-- The points themselves live in ClickHouse (`activity_points`, one row per rules version and activity);
-- `points_current` says, per ClickHouse database that holds them, which version is complete there and
-- served. Readers switch to a new version only when its recompute has written all of history and
-- flipped this pointer (docs/points.md).

-- Up Migration

CREATE TABLE points_rules (
  version       integer     PRIMARY KEY CHECK (version > 0),
  rules         jsonb       NOT NULL,           -- { sports: [{ sport, per_km, per_minute, per_activity, ... }] }
  note          text        NOT NULL DEFAULT '',
  published_by  uuid        REFERENCES users (id) ON DELETE SET NULL,
  published_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per ClickHouse database (`store`) that holds activity_points: the version readers use there.
CREATE TABLE points_current (
  store         text        PRIMARY KEY,
  version       integer     NOT NULL REFERENCES points_rules (version),
  completed_at  timestamptz NOT NULL DEFAULT now(),
  activities    bigint      NOT NULL DEFAULT 0,  -- rows the recompute wrote
  duration_ms   integer     NOT NULL DEFAULT 0   -- how long it took
);

-- Version 1: what every deployment starts with (a walking km is worth more than a cycling km; strength
-- and other sports without a distance score by the minute).
INSERT INTO points_rules (version, rules, note) VALUES (1, '{"sports": [
  {"sport": "running",  "per_km": 10, "per_minute": 0,   "per_activity": 0, "min_distance_m": 500,  "min_moving_s": 0,   "max_points": 500},
  {"sport": "walking",  "per_km": 12, "per_minute": 0,   "per_activity": 0, "min_distance_m": 500,  "min_moving_s": 0,   "max_points": 300},
  {"sport": "hiking",   "per_km": 12, "per_minute": 0,   "per_activity": 0, "min_distance_m": 500,  "min_moving_s": 0,   "max_points": 400},
  {"sport": "cycling",  "per_km": 3,  "per_minute": 0,   "per_activity": 0, "min_distance_m": 1000, "min_moving_s": 0,   "max_points": 500},
  {"sport": "strength", "per_km": 0,  "per_minute": 1.5, "per_activity": 0, "min_distance_m": 0,    "min_moving_s": 600, "max_points": 120}
]}', 'initial rules');

-- Down Migration

DROP TABLE IF EXISTS points_current;
DROP TABLE IF EXISTS points_rules;
