// In-process A/B of the pipelines: an older tree against the working tree, timed rounds alternated
// (A B, B A, ...) in one process, so both see the same machine load. On a shared machine the load
// moves the absolute figures between separate runs by ±40 %; alternating rounds keeps the ratio.
//   git archive <rev> package.json pipelines schemas bench | tar -x -C /tmp/before && ln -s $PWD/node_modules /tmp/before/
//   npx tsx bench/pipeline-ab.ts --before /tmp/before [--rounds 40] [--duration 14400] [--label <rev>]
// package.json matters: without its "type": "module" the older tree loads as CommonJS, which under tsx
// makes every imported binding a getter call (see docs/algorithms.md, *How the hot path is compiled*).
// --after <dir> takes the "after" side from another tree instead of this one. Compiled by tsc, the
// bench runs the compiled trees: node dist/bench/pipeline-ab.js --before /tmp/before/dist.
// Writes bench/results/pipeline-ab.{json,md}.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as here from '../pipelines/index.js';
import type { Sample } from '../schemas/types.js';
import { generateSession, type SynthSport } from './synth/index.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    rounds: { type: 'string', default: '40' },
    duration: { type: 'string', default: '14400' },
    label: { type: 'string', default: 'older tree' },
    after: { type: 'string' },
    'after-label': { type: 'string', default: 'this tree' },
    out: { type: 'string', default: 'pipeline-ab' },
  },
});
if (!values.before) throw new Error('--before <dir>: a tree holding the older pipelines/ (see header)');
type Pipelines = Pick<typeof here, 'computeActivity' | 'columnsFromSamples' | 'SessionAccumulator'>;
// the trees' sources under tsx, their compiled output when this bench runs compiled
const entry = import.meta.url.endsWith('.ts') ? 'pipelines/index.ts' : 'pipelines/index.js';
// a tree, or a pipelines entry file itself (to compare a compiled tree with sources under tsx)
/** Whether Node loads .js/.ts files in `dir` as ES modules: the nearest package.json says so. */
function isModule(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) return JSON.parse(readFileSync(pkg, 'utf8')).type === 'module';
    if (dirname(d) === d) return false;
  }
}
const load = async (dir: string) => {
  const file = /\.[jt]s$/.test(dir) ? dir : join(dir, entry);
  if (!isModule(dirname(file)))
    throw new Error(
      `${dir}: no package.json with "type": "module", so it would load as CommonJS (see header)`,
    );
  return (await import(pathToFileURL(file).href)) as Pipelines;
};
const before = await load(values.before);
const after: Pipelines = values.after ? await load(values.after) : here;
const ROUNDS = Number(values.rounds);
const DURATION_S = Number(values.duration);

function scenarios(
  p: Pipelines,
  sport: SynthSport,
  samples: Sample[],
  shuffled: Sample[],
  arrived: Sample[],
) {
  const n = samples.length;
  const base = {
    userId: 'u',
    deviceId: 'd',
    sessionId: 's',
    sport,
    controls: [],
    sets: [],
    athlete: { maxHr: 190 },
  };
  const { columns } = p.columnsFromSamples(samples);
  return {
    'computeActivity(columns) — whole chain': () => p.computeActivity({ ...base, samples: columns }),
    'computeActivity(Sample[]) — incl. conversion': () => p.computeActivity({ ...base, samples }),
    'computeActivity(Sample[]) — shuffled + 10 % dups': () =>
      p.computeActivity({ ...base, samples: shuffled }),
    'computeActivity(Sample[]) — shuffled + 10 % dups, allocated in arrival order': () =>
      p.computeActivity({ ...base, samples: arrived }),
    'SessionAccumulator add(10)+live() then compute()': () => {
      const acc = new p.SessionAccumulator({ userId: 'u', deviceId: 'd', sessionId: 's', sport });
      for (let i = 0; i < n; i += 10) {
        acc.add(samples.slice(i, i + 10));
        acc.live();
      }
      acc.compute({ maxHr: 190 });
    },
  } as Record<string, () => unknown>;
}

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1]!;
const k = (n: number, ms: number) => `${Math.round(n / ms).toLocaleString('en-US')}k`;
const loadStart = loadavg()[0]!;
const lines: string[] = [
  '| scenario | sport | before median ms (samples/s) | after median ms (samples/s) | before CPU ms | after CPU ms | after/before (CPU) |',
  '|---|---|---|---|---|---|---|',
];
const rows: unknown[] = [];
for (const sport of ['running', 'cycling'] as const) {
  const { samples } = generateSession({ sport, seed: 42, durationS: DURATION_S, lapEveryM: 1000 });
  const n = samples.length;
  // the same shuffle as bench/pipeline-throughput.ts
  const shuffled: Sample[] = samples.slice();
  for (let i = 0; i < n / 10; i++) shuffled.push(samples[(i * 7919) % n]!);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  // the same rows as objects allocated in arrival order (as a decoder creates them)
  const arrived = shuffled.map((s) => ({ ...s }));
  const a = scenarios(before, sport, samples, shuffled, arrived);
  const b = scenarios(after, sport, samples, shuffled, arrived);
  for (const name of Object.keys(b)) {
    const fa = a[name]!;
    const fb = b[name]!;
    const w0 = performance.now();
    for (let r = 0; r < 15 || performance.now() - w0 < 1500; r++) {
      fa();
      fb();
    }
    const wall = { a: [] as number[], b: [] as number[] };
    const cpu = { a: [] as number[], b: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of r % 2 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
        const f = side === 'a' ? fa : fb;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        f();
        wall[side].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[side].push((c.user + c.system) / 1000);
      }
    }
    const [wa, wb, ca, cb] = [median(wall.a), median(wall.b), median(cpu.a), median(cpu.b)];
    rows.push({
      scenario: name,
      sport,
      samples: n,
      before: { wallMs: wa, cpuMs: ca },
      after: { wallMs: wb, cpuMs: cb },
    });
    lines.push(
      `| ${name} | ${sport} | ${wa.toFixed(1)} (${k(n, wa)}) | ${wb.toFixed(1)} (${k(n, wb)}) | ${ca.toFixed(1)} | ${cb.toFixed(1)} | ${(cb / ca).toFixed(2)} |`,
    );
  }
}
const env = {
  node: process.version,
  before: values.label,
  after: values['after-label'],
  command: [
    'node',
    ...process.execArgv,
    relative(process.cwd(), process.argv[1]!),
    ...process.argv.slice(2),
  ].join(' '),
  rounds: ROUNDS,
  durationS: DURATION_S,
  loadAvgStart1m: Number(loadStart.toFixed(2)),
  loadAvgEnd1m: Number(loadavg()[0]!.toFixed(2)),
};
const md = [
  '# Pipeline A/B (one process, alternated rounds)',
  '',
  `\`${env.command}\` (before: ${env.before}; after: ${env.after}): Node ${env.node}, sessions of ${DURATION_S} s at 1 Hz, ${ROUNDS} timed rounds per side after a warm-up of ≥ 15 rounds and ≥ 1.5 s, 1-min load average ${env.loadAvgStart1m} at the start, ${env.loadAvgEnd1m} at the end. Medians; samples/s in thousands.`,
  '',
  ...lines,
  '',
].join('\n');
// the source tree's bench/results, also when this runs compiled from dist/bench
const out = join(dirname(fileURLToPath(import.meta.url)).replace(/\/dist\/bench$/, '/bench'), 'results');
writeFileSync(join(out, `${values.out}.json`), `${JSON.stringify({ env, rows }, null, 2)}\n`);
writeFileSync(join(out, `${values.out}.md`), md);
console.log(md);
