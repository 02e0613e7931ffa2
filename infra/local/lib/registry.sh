#!/usr/bin/env bash
# AxonOps Schema Registry v0.2.1 (Go; Confluent-compatible REST) on 127.0.0.1:8081.
# Built from infra/local/schema-registry/go.mod into $FS_DATA/opt/bin/schema-registry.
# Storage: PostgreSQL database `schemaregistry` (so schema ids survive restarts); default
# compatibility BACKWARD; no auth (local only). Memory: ~20-30MB RSS, holds nothing
# that is not in PostgreSQL.
REGISTRY_PORT=8081
REGISTRY_DIR="$FS_DATA/registry"
REGISTRY_BIN="$FS_OPT/bin/schema-registry"
REGISTRY_LOGFILE="$FS_LOG/registry.log"

registry_need() { :; }

registry_install() {
  go_build_pinned schema-registry "$FS_INFRA/local/schema-registry" \
    github.com/axonops/axonops-schema-registry/cmd/schema-registry
  mkdir -p "$REGISTRY_DIR"
  cat >"$REGISTRY_DIR/config.yaml" <<CONF
server:
  host: "127.0.0.1"
  port: $REGISTRY_PORT
  read_timeout: 30
  write_timeout: 30
  docs_enabled: false
storage:
  type: postgresql
  postgresql:
    host: 127.0.0.1
    port: ${PG_PORT:-5432}
    database: schemaregistry
    user: fitstream
    password: fitstream
    ssl_mode: disable
    max_open_conns: 10
    max_idle_conns: 2
    conn_max_lifetime: 300
compatibility:
  default_level: BACKWARD
logging:
  level: warn
  format: text
security:
  auth:
    enabled: false
CONF
}

registry_ready() { http_ok "$REGISTRY_PORT" /subjects; }
registry_running() { pid_of registry >/dev/null && port_open "$REGISTRY_PORT"; }

registry_start() {
  registry_running && return 0
  port_open "$REGISTRY_PORT" && fs_die "registry: port $REGISTRY_PORT is taken by another process"
  start_bg registry "$REGISTRY_LOGFILE" "$REGISTRY_BIN" -config "$REGISTRY_DIR/config.yaml"
}
registry_wait() { wait_until registry 60 "$REGISTRY_LOGFILE" registry_ready; }
registry_stop() { stop_pid registry 20; }
