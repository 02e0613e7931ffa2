#!/usr/bin/env bash
# PostgreSQL 15 (Debian package binaries), own cluster under $FS_DATA/postgres.
# Holds: the API's relational data (database `fitstream`: users, devices, goals, coach grants,
# challenges, webhooks, idempotency keys) and the schema registry's schemas (database
# `schemaregistry`). Memory: shared_buffers 64MB + ~5-10MB per connection.
# PostgreSQL refuses to run as root: when we are root, the cluster belongs to `postgres`.
PG_PORT=5432
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DIR="$FS_DATA/postgres"
PG_PGDATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOGFILE="$FS_LOG/postgres.log"
PG_OS_USER="$(id -un)"; [[ $EUID -eq 0 ]] && PG_OS_USER=postgres

postgres_need() { need_cmd_or_pkg "$PG_BIN/pg_ctl" postgresql-15; }

postgres_install() {
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  mkdir -p "$PG_DIR" "$PG_SOCK"
  touch "$PG_LOGFILE"
  if [[ $EUID -eq 0 ]]; then
    chown "$PG_OS_USER" "$PG_DIR" "$PG_SOCK" "$PG_LOGFILE"
    as_user "$PG_OS_USER" test -w "$PG_DIR" \
      || fs_die "postgres: user $PG_OS_USER cannot write $PG_DIR (every parent folder of FITSTREAM_DATA_DIR needs o+x)"
  fi
  if [[ ! -s "$PG_PGDATA/PG_VERSION" ]]; then
    fs_log "postgres: initdb $PG_PGDATA"
    as_user "$PG_OS_USER" "$PG_BIN/initdb" -D "$PG_PGDATA" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >>"$PG_LOGFILE" 2>&1 \
      || fs_die "postgres initdb failed (log: $PG_LOGFILE)"
  fi
  # Our settings live in one included file, rewritten on every up (cheap, keeps it in sync).
  cat >"$PG_DIR/fitstream.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 100
shared_buffers = 64MB
work_mem = 4MB
maintenance_work_mem = 32MB
effective_cache_size = 256MB
max_wal_size = 256MB
wal_buffers = 4MB
timezone = 'UTC'
log_timezone = 'UTC'
log_min_messages = warning
CONF
  [[ $EUID -eq 0 ]] && chown "$PG_OS_USER" "$PG_DIR/fitstream.conf"
  grep -q "fitstream.conf" "$PG_PGDATA/postgresql.conf" \
    || echo "include '$PG_DIR/fitstream.conf'" >>"$PG_PGDATA/postgresql.conf"
}

postgres_ready() { as_user "$PG_OS_USER" "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1; }

postgres_running() { pid_of postgres >/dev/null && port_open "$PG_PORT"; }

postgres_start() {
  local pid
  pid="$(head -n1 "$PG_PGDATA/postmaster.pid" 2>/dev/null || true)"
  # running = the postmaster.pid process is alive AND is a postgres (pids get reused)
  if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres ]]; then
    echo "$pid" >"$FS_RUN/postgres.pid"
    return 0
  fi
  port_open "$PG_PORT" && fs_die "postgres: port $PG_PORT is taken by another process (system postgresql service? stop it)"
  # pg_ctl daemonises the postmaster itself; we wait for readiness separately.
  as_user "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PG_PGDATA" -l "$PG_LOGFILE" -W start >/dev/null 9>&- \
    || fs_die "postgres failed to start (log: $PG_LOGFILE)"
}

postgres_wait() {
  wait_until postgres 60 "$PG_LOGFILE" postgres_ready
  head -n1 "$PG_PGDATA/postmaster.pid" >"$FS_RUN/postgres.pid"
}

pg_psql() { as_user "$PG_OS_USER" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres "$@"; }

# Role fitstream/fitstream (superuser: local only) and databases fitstream + schemaregistry.
postgres_bootstrap() {
  pg_psql -d postgres >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fitstream') THEN
    CREATE ROLE fitstream LOGIN SUPERUSER PASSWORD 'fitstream';
  END IF;
END $$;
SELECT 'CREATE DATABASE fitstream OWNER fitstream'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'fitstream') \gexec
SELECT 'CREATE DATABASE schemaregistry OWNER fitstream'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'schemaregistry') \gexec
SQL
}

postgres_stop() {
  if [[ -s "$PG_PGDATA/postmaster.pid" ]]; then
    as_user "$PG_OS_USER" "$PG_BIN/pg_ctl" -D "$PG_PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -f "$FS_RUN/postgres.pid"
}
