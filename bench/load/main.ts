// Load harness (issue 18): N concurrent simulated workouts through gateway → Kafka → worker → ClickHouse /
// Redis / S3 on this machine, reconciled sample by sample, with a report and plots. bench/README.md.
//
//   npm run bench:load -- --workouts 1000 --minutes 10 [--ramp-s 60] [--format json|avro] [--per-message 1]
//     [--mux 1] [--seed 1] [--threads 2] [--gateways 1] [--workers 1] [--bridge] [--core-only]
//     [--baseline-s 60] [--tracers 200] [--settle-s 180] [--keep] [--out bench/results/load]
//     [--save-baseline "note"] [--session-timeout-s 600] [--finalise-memory-mb 0 (sized from the load)]
//     [--cpu-prof (each service writes $TMPDIR/load-<run id>/profiles/<name>.cpuprofile as it stops;
//      summarise one with bench/worker-cpuprofile-top.ts)]
//
// --mux D > 1 (D devices per MQTT connection) and --gateways > 1 run the gateways in bridge mode through the
// local Mosquitto (bench/load/connections.ts says why). Big runs only under flock /tmp/fitstream-bench.lock.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FAULTS } from './plan.js';
import { keyFigures, scenarioOf, writeReport } from './report.js';
import { defaultLoadOptions, runLoad } from './run.js';
import { ROOT } from './stack.js';

const { values: a } = parseArgs({
  options: {
    workouts: { type: 'string', default: '100' },
    minutes: { type: 'string', default: '1' },
    'ramp-s': { type: 'string' },
    format: { type: 'string', default: 'json' },
    'per-message': { type: 'string', default: '1' },
    mux: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string' },
    gateways: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    bridge: { type: 'boolean', default: false },
    'core-only': { type: 'boolean', default: false },
    'baseline-s': { type: 'string', default: '0' },
    tracers: { type: 'string', default: '200' },
    'settle-s': { type: 'string', default: '180' },
    'grace-s': { type: 'string', default: '60' },
    'session-timeout-s': { type: 'string', default: '600' },
    'finalise-memory-mb': { type: 'string', default: '0' },
    'no-faults': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results/load' },
    'baseline-file': { type: 'string', default: 'bench/results/load/baseline.json' },
    'save-baseline': { type: 'string' },
  },
});
const int = (name: string, v: string | undefined, min: number): number => {
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) {
    console.error(`--${name} must be an integer >= ${min}, got ${v}`);
    process.exit(2);
  }
  return x;
};
const workouts = int('workouts', a.workouts, 1);
const minutes = Number(a.minutes);
if (!(minutes > 0)) {
  console.error('--minutes must be a positive number');
  process.exit(2);
}
if (a.format !== 'json' && a.format !== 'avro') {
  console.error('--format must be json or avro');
  process.exit(2);
}
const perMessage = int('per-message', a['per-message'], 1);
if (perMessage > 600) {
  console.error('--per-message must be at most 600 (the gateway limit of samples per batch)');
  process.exit(2);
}
if (a['cpu-prof']) process.env.FITSTREAM_LOAD_CPU_PROF = '1';
const opts = defaultLoadOptions({
  workouts,
  minutes,
  rampS: a['ramp-s'] !== undefined ? int('ramp-s', a['ramp-s'], 0) : Math.min(60, Math.round(minutes * 6)),
  format: a.format,
  perMessage,
  mux: int('mux', a.mux, 1),
  seed: int('seed', a.seed, 0),
  threads: a.threads !== undefined ? int('threads', a.threads, 0) : workouts >= 2000 ? 2 : 1,
  gateways: int('gateways', a.gateways, 1),
  workers: int('workers', a.workers, 1),
  bridge: a.bridge,
  allServices: !a['core-only'],
  baselineS: int('baseline-s', a['baseline-s'], 0),
  tracers: Math.min(workouts, int('tracers', a.tracers, 0)),
  settleS: int('settle-s', a['settle-s'], 1),
  graceS: int('grace-s', a['grace-s'], 0),
  sessionTimeoutS: int('session-timeout-s', a['session-timeout-s'], 1),
  finaliseMemoryMb: int('finalise-memory-mb', a['finalise-memory-mb'], 0),
  faults: a['no-faults'] ? { dropout: 0, duplicate: 0, reorder: 0 } : DEFAULT_FAULTS,
  keep: a.keep,
});
const command = `npm run bench:load -- ${process.argv.slice(2).join(' ')}`;
const result = await runLoad(opts);
const { dir, ratios } = await writeReport(
  result,
  ROOT,
  resolve(ROOT, a.out),
  command,
  resolve(ROOT, a['baseline-file']),
);
const rec = result.reconciliation;
console.log(
  JSON.stringify({
    report: dir,
    scenario: scenarioOf(result),
    figures: keyFigures(result),
    ratiosToBaseline: ratios,
    missing: rec.missingSamples,
    duplicates: rec.duplicateSamples,
    extra: rec.extraSamples,
    activities: `${rec.activities}/${rec.finishedWorkouts}`,
    distanceOutsideBound: rec.distanceOutsideBound,
    maxSockets: result.maxSockets,
    failures: result.failures,
  }),
);
if (a['save-baseline'] !== undefined) {
  writeFileSync(
    resolve(ROOT, a['baseline-file']),
    `${JSON.stringify({ note: a['save-baseline'], scenario: scenarioOf(result), commit: dir.split('-').pop(), figures: keyFigures(result) }, null, 2)}\n`,
  );
}
const ok = rec.missingSamples === 0 && rec.duplicateSamples === 0 && rec.extraSamples === 0;
process.exit(ok ? 0 : 1);
