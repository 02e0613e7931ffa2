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
