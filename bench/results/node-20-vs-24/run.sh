#!/bin/bash
# Node 20 vs 24, alternating, one sitting (bench/results/node-20-vs-24.md). Needs the local stack.
cd "$(dirname "$0")/../../.."
export FITSTREAM_DATA_DIR=/work/main/.data
R=bench/results/node-20-vs-24
N20=/usr/bin/node
N24=/work/wt-prims/node_modules/.bin/node
log() { echo "$(date -u +%H:%M:%S) $*" >> $R/log.txt; }
run() { # name node label cmd...
  local name=$1 node=$2 v=$3; shift 3
  log "start $name node$v load $(cut -d' ' -f1-3 /proc/loadavg) :: $node $*"
  flock /tmp/fitstream-bench.lock "$node" "$@" > $R/$name-node$v.out 2>&1
  log "end $name node$v rc $? load $(cut -d' ' -f1-3 /proc/loadavg)"
}
ROUNDS=${ROUNDS:-2}
for r in $(seq 1 $ROUNDS); do
  for v in 20 24; do
    if [ $v = 20 ]; then node=$N20; else node=$N24; fi
    run pipeline-r$r $node $v --import tsx bench/pipeline-throughput.ts
    cp bench/results/pipeline-throughput.json $R/pipeline-r$r-node$v.json
    cp bench/results/pipeline-throughput.md $R/pipeline-r$r-node$v.md
  done
  for v in 20 24; do
    if [ $v = 20 ]; then node=$N20; else node=$N24; fi
    run worker-r$r $node $v --import tsx bench/worker-throughput.ts --samples 300000 --out $R/worker-r$r-node$v
  done
  for v in 20 24; do
    if [ $v = 20 ]; then node=$N20; else node=$N24; fi
    run gateway-r$r $node $v --expose-gc --import tsx bench/gateway-throughput.ts --connections 1000 --duration 10 --formats json,avro --rates '' --out $R/gateway-r$r-node$v
  done
done
git checkout bench/results/pipeline-throughput.json bench/results/pipeline-throughput.md
log done
