#!/usr/bin/env bash
# The README's main job (`npm run demo`): on a fresh machine, installs everything, brings up the
# real stack, starts gateway + worker + api, streams simulated workouts through MQTT and prints
# where to look. Services keep running afterwards; `npm run demo -- stop` stops them (the stack
# itself stays up; `npm run stack:down` stops it).
#   DEMO_DEVICES (default 50)  DEMO_DURATION_S (default 120)  DEMO_FORMAT (json|avro, default json)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=scripts/node24.sh
source scripts/node24.sh
DATA=${FITSTREAM_DATA_DIR:-$ROOT/.data}
RUN=$DATA/run
LOGS=$DATA/logs
mkdir -p "$RUN" "$LOGS"

stop_services() {
  for svc in api engagement worker gateway; do
    if [ -f "$RUN/$svc.pid" ] && kill -0 "$(cat "$RUN/$svc.pid")" 2>/dev/null; then
      kill -TERM "$(cat "$RUN/$svc.pid")" && echo "stopping $svc"
    fi
    rm -f "$RUN/$svc.pid"
  done
}

if [ "${1:-}" = "stop" ]; then stop_services; exit 0; fi

echo "==> npm ci"; npm ci --no-audit --no-fund
echo "==> local stack"; bash infra/local/up
echo "==> build"; npm run build

start() { # name, entry
  local svc=$1 entry=$2
  if [ -f "$RUN/$svc.pid" ] && kill -0 "$(cat "$RUN/$svc.pid")" 2>/dev/null; then
    echo "$svc already running (pid $(cat "$RUN/$svc.pid"))"; return
  fi
  nohup node --enable-source-maps "$entry" >"$LOGS/$svc.log" 2>&1 &
  echo $! >"$RUN/$svc.pid"
  echo "started $svc (pid $!, log $LOGS/$svc.log)"
}
wait_ready() { # name, url
  for _ in $(seq 1 60); do
    if curl -fsS "$2" >/dev/null 2>&1; then echo "$1 ready"; return; fi
    sleep 1
  done
  echo "$1 did not become ready; see $LOGS/$1.log" >&2; tail -n 20 "$LOGS/$1.log" >&2; exit 1
}

start gateway dist/services/gateway/main.js
start worker dist/services/worker/main.js
start engagement dist/services/engagement/main.js
start api dist/services/api/main.js
wait_ready gateway http://127.0.0.1:9401/readyz
wait_ready worker http://127.0.0.1:9402/readyz
wait_ready engagement http://127.0.0.1:9403/readyz
wait_ready api http://127.0.0.1:3000/readyz

echo "==> streaming ${DEMO_DEVICES:-50} simulated workouts for ${DEMO_DURATION_S:-120}s"
: >"$LOGS/loadgen.log"
node --enable-source-maps dist/bench/loadgen/main.js \
  --devices "${DEMO_DEVICES:-50}" --duration "${DEMO_DURATION_S:-120}" --format "${DEMO_FORMAT:-json}" \
  --batch 5 --out "$RUN/loadgen-summary.json" 2>"$LOGS/loadgen.log" &
loadgen=$!
user=""
for _ in $(seq 1 60); do
  user=$(grep -oE 'of user [0-9a-f-]{36}' "$LOGS/loadgen.log" | head -n 1 | cut -d' ' -f3 || true)
  [ -n "$user" ] && break
  kill -0 "$loadgen" 2>/dev/null || break
  sleep 1
done
coach=""
if [ -n "$user" ]; then
  # A coach whom the simulated athlete grants access, signed up and accepted through the API.
  coach=$(node_modules/.bin/tsx scripts/demo-coach.ts "$user" http://127.0.0.1:3000 2>>"$LOGS/loadgen.log" || true)
  echo "Watch it live: http://127.0.0.1:3000/app/#/board — sign in as the coach:"
  echo "${coach:-  (the coach could not be set up; see $LOGS/loadgen.log)}"
fi
wait "$loadgen" || { echo "load generator failed; see $LOGS/loadgen.log" >&2; tail -n 20 "$LOGS/loadgen.log" >&2; exit 1; }
tail -n 5 "$LOGS/loadgen.log"

cat <<MSG

Fitstream is running.
  API + OpenAPI docs   http://127.0.0.1:3000/docs
  Activities           as the coach below (every route needs an access token):
                       TOKEN=\$(curl -s http://127.0.0.1:3000/v1/auth/login -H 'content-type: application/json' \\
                         -d '{"email":"<coach e-mail>","password":"<coach password>"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
                       curl -H "authorization: Bearer \$TOKEN" 'http://127.0.0.1:3000/v1/activities?user_id=$user&limit=5'
  Web app              http://127.0.0.1:3000/app/ (coach board: #/board), signed in as the coach:
$(echo "$coach" | sed 's/^/                       /')
  Metrics              http://127.0.0.1:9401/metrics (gateway)  :9402/metrics (worker)  :9403/metrics (engagement)  :3000/metrics (api)
  ClickHouse           clickhouse-client --port 9000 -q "SELECT sport, count(), round(sum(distance_m)/1000,1) AS km FROM fitstream.activities FINAL GROUP BY sport"
  Sent vs acknowledged $RUN/loadgen-summary.json
  Logs                 $LOGS/
Activities appear once the worker finalises each session (on its end message).
Stop the services with: npm run demo -- stop     Stop the stack with: npm run stack:down
MSG
