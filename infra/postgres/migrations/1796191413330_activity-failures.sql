-- Why an upload or an import did not become an activity (issue 13, GET /v1/activities/{id} `status: "failed"`):
-- the worker dead-letters such a session on telemetry.dlq.v1 (`finalise_failed`, or a record of it refused with
-- its reason code); the API's failure recorder (services/api/activity-failures.ts) writes the reason here for the
-- activity ids that are an upload's or an import's. One row per activity, the first reason kept (a re-delivered
-- DLQ record changes nothing). `message` is the worker's text for operators; the API shows only `reason`.
-- A later successful finalisation (replay, new data) wins: the GET shows `ready` once ClickHouse holds the row.

-- Up Migration

CREATE TABLE activity_failures (
  activity_id  uuid        PRIMARY KEY,
  user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  reason       text        NOT NULL,
  message      text        NOT NULL,
  failed_at    timestamptz NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activity_failures_user ON activity_failures (user_id);

-- Down Migration

DROP TABLE IF EXISTS activity_failures;
