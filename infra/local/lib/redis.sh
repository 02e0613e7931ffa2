#!/usr/bin/env bash
# Redis (Debian redis-server 7.0) on 127.0.0.1:6379, own config under $FS_DATA/redis.
# Holds: live session state + pub/sub for SSE, and caches -- only what can be rebuilt.
# Memory: maxmemory 256mb; volatile-lru evicts only keys with a TTL (caches), never live
# state without TTL. appendonly yes (fsync every second) so state survives down/up.
REDIS_PORT=6379
REDIS_DIR="$FS_DATA/redis"
REDIS_LOGFILE="$FS_LOG/redis.log"

redis_need() { need_cmd_or_pkg redis-server redis-server; need_cmd_or_pkg redis-cli redis-tools; }

redis_install() {
  mkdir -p "$REDIS_DIR/data"
  cat >"$REDIS_DIR/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize no
supervised no
dir $REDIS_DIR/data
logfile ""
loglevel notice
databases 16
save ""
appendonly yes
appendfilename "appendonly.aof"
appendfsync everysec
maxmemory 256mb
maxmemory-policy volatile-lru
tcp-keepalive 60
CONF
}

redis_ready() { [[ "$(timeout 2 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
redis_running() { pid_of redis >/dev/null && port_open "$REDIS_PORT"; }

redis_start() {
  redis_running && return 0
  port_open "$REDIS_PORT" && fs_die "redis: port $REDIS_PORT is taken by another process (system redis-server service? stop it)"
  start_bg redis "$REDIS_LOGFILE" redis-server "$REDIS_DIR/redis.conf"
}
redis_wait() { wait_until redis 30 "$REDIS_LOGFILE" redis_ready; }
redis_stop() { stop_pid redis 30; }
