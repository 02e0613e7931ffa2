#!/usr/bin/env bash
# Schema migrations, applied by `up` once the servers answer. Both are idempotent.
# PostgreSQL: node-pg-migrate, files in infra/postgres/migrations (table pgmigrations).
# ClickHouse: infra/clickhouse/migrate.ts, files in infra/clickhouse/migrations
#             (table default.schema_migrations).
FS_PG_URL="postgres://fitstream:fitstream@127.0.0.1:${PG_PORT:-5432}/fitstream"

pg_migrate() {
  (cd "$FS_REPO" && DATABASE_URL="$FS_PG_URL" "$FS_REPO/node_modules/.bin/node-pg-migrate" up \
    -m infra/postgres/migrations --migrations-table pgmigrations --verbose false) \
    >"$FS_LOG/pg-migrate.log" 2>&1 \
    || { tail -n 30 "$FS_LOG/pg-migrate.log" >&2; fs_die "postgres migrations failed (log: $FS_LOG/pg-migrate.log)"; }
  fs_log "postgres migrations: $(grep -ciE '^### MIGRATION .* \(UP\) ###' "$FS_LOG/pg-migrate.log" || true) applied now ($(ls "$FS_INFRA/postgres/migrations" | grep -c . ) total)"
}

ch_migrate() {
  CLICKHOUSE_URL="http://127.0.0.1:${CH_HTTP_PORT:-8123}" fs_tsx "$FS_INFRA/clickhouse/migrate.ts" \
    || fs_die "clickhouse migrations failed"
}

# fs_provision: Kafka topics, S3 bucket, the API's signing key, PostgreSQL + ClickHouse migrations, in parallel
# (each is a short node process). Works against any stack on the standard ports, so
# `infra/local/provision` also provisions the docker-compose stack.
fs_provision() {
  local jobs_=() j rc=0
  kafka_topics >&2 & jobs_+=($!)
  s3_bucket >&2 & jobs_+=($!)
  auth_dev_key >&2 & jobs_+=($!)
  if [[ "${FITSTREAM_SKIP_MIGRATIONS:-0}" != 1 ]]; then
    pg_migrate >&2 & jobs_+=($!)
    ch_migrate >&2 & jobs_+=($!)
  fi
  for j in "${jobs_[@]}"; do wait "$j" || rc=1; done
  ((rc == 0)) || fs_die "provisioning failed (see the messages above)"
}
