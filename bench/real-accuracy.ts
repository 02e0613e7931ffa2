// Fitstream on the real-recordings corpus (test/fixtures/import/SOURCES.md) against the totals
// the device wrote into the file and against two peer methods computed on the same fixes:
// - gpxpy 1.6.2 (what FitTrackee and many tools use): length_2d, get_moving_data().moving_time,
//   get_uphill_downhill().uphill. Installed by this script from PyPI into
//   ${FITSTREAM_DATA_DIR:-.data}/venv. Every activity is handed to it as GPX written by writeGpx
//   from the imported samples (one segment), so it reads the same fixes as Fitstream.
// - plain: raw haversine over every fix; moving time = intervals whose implied speed (or the device
//   speed without fixes) reaches 0.5 m/s (cycling 1.0, walking/hiking 0.3); gain = a 3 m hysteresis
//   on the raw altitude, as GoldenCheetah and most simple tools count it.
// Every Fitstream algorithm version from 2026.11-3 on is computed, so one run shows before and after.
// Writes bench/results/real-accuracy.{json,md}.
//   npx tsx bench/real-accuracy.ts [--versions 2026.11-3,...] [--no-gpxpy]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGpx } from '../pipelines/import/gpx-write.js';
import { parseActivityFile, sessionControls } from '../pipelines/import/index.js';
import type { ImportedActivity } from '../pipelines/import/types.js';
import { CONFIGS, computeActivity } from '../pipelines/index.js';
import type { Sport } from '../schemas/types.js';
import { fixture } from '../test/support/import-fixtures.js';
import {
  plainGain,
  plainMoving,
  REAL_RECORDINGS,
  type RealRecording,
  rawTrackDistance,
  trackDeviation,
} from '../test/support/real-recordings.js';

const GPXPY_VERSION = '1.6.2';
const here = dirname(fileURLToPath(import.meta.url));

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const versions =
  arg('--versions')?.split(',') ?? Object.keys(CONFIGS).filter((v) => v.localeCompare('2026.11-3') >= 0);
const withGpxpy = !process.argv.includes('--no-gpxpy');

interface Figures {
  distanceM: number | null;
  movingS: number | null;
  gainM: number | null;
}
interface FitstreamFigures extends Figures {
  /** distance between each accepted fix and its smoothed position, m */
  trackMedianM: number | null;
  trackMaxM: number | null;
}
interface Row {
  id: string;
  file: string;
  device: string;
  sport: Sport;
  altimeter: RealRecording['altimeter'];
  points: number;
  device_: Figures;
  raw: Figures;
  gpxpy: Figures | null;
  fitstream: Record<string, FitstreamFigures>;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fitstream(r: RealRecording, a: ImportedActivity, sport: Sport, version: string): FitstreamFigures {
  const controls = sessionControls(a, {
    deviceId: 'import',
    userId: 'u',
    sessionId: r.id,
    sport,
    receivedAt: 0,
  });
  const { summary, samples } = computeActivity(
    {
      userId: 'u',
      deviceId: 'import',
      sessionId: r.id,
      sport,
      samples: a.samples,
      controls,
      sets: [],
      athlete: {},
    },
    { version },
  );
  const dev = trackDeviation(samples);
  return {
    distanceM: summary.distanceM,
    movingS: summary.movingS,
    gainM: summary.minAltM === null ? null : summary.elevGainM,
    trackMedianM: median(dev),
    trackMaxM: dev.length > 0 ? Math.max(...dev) : null,
  };
}

function ensureGpxpy(): string {
  const venv = resolve(process.env.FITSTREAM_DATA_DIR ?? '.data', 'venv');
  const py = join(venv, 'bin', 'python');
  const has = () => {
    try {
      const out = execFileSync(py, ['-c', 'import gpxpy; print(gpxpy.__version__)'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      return out.toString().trim() === GPXPY_VERSION;
    } catch {
      return false;
    }
  };
  if (!existsSync(py)) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  if (!has())
    execFileSync(py, ['-m', 'pip', 'install', '--quiet', `gpxpy==${GPXPY_VERSION}`], { stdio: 'inherit' });
  return py;
}

const GPXPY_SCRIPT = `
import json, sys, gpxpy
out = {}
for path in sys.argv[1:]:
    with open(path, encoding='utf-8') as f:
        g = gpxpy.parse(f)
    m = g.get_moving_data()
    ud = g.get_uphill_downhill()
    has_ele = any(p.elevation is not None for t in g.tracks for s in t.segments for p in s.points)
    out[path] = {'distanceM': g.length_2d(), 'movingS': m.moving_time if m else None,
                 'gainM': ud.uphill if has_ele else None}
print(json.dumps(out))
`;

function gpxpyFigures(files: Map<string, string>): Map<string, Figures> {
  const py = ensureGpxpy();
  const dir = mkdtempSync(join(tmpdir(), 'real-accuracy-'));
  try {
    const paths: string[] = [];
    const byPath = new Map<string, string>();
    for (const [id, text] of files) {
      const p = join(dir, `${id}.gpx`);
      writeFileSync(p, text);
      paths.push(p);
      byPath.set(p, id);
    }
    const res = JSON.parse(
      execFileSync(py, ['-c', GPXPY_SCRIPT, ...paths], { maxBuffer: 1 << 26 }).toString(),
    ) as Record<string, Figures>;
    return new Map(Object.entries(res).map(([p, f]) => [byPath.get(p)!, f]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
const gpxText = new Map<string, string>();
for (const r of REAL_RECORDINGS) {
  const parsed = parseActivityFile(fixture(r.file));
  const a = parsed.activities[r.activity]!;
  const sport = r.sport ?? a.sport;
  if (!sport) throw new Error(`${r.id}: the file names no sport Fitstream knows (${a.fileSport})`);
  const hasFix = a.samples.some((s) => s.lat !== null);
  // the imported fixes, so gpxpy sees the same points as Fitstream (a GPX file's untimed points
  // and its track/segment structure are left out, as the importer leaves them)
  if (hasFix) gpxText.set(r.id, writeGpx(a.samples));
  const rec = a.recorded;
  const fs: Record<string, FitstreamFigures> = {};
  for (const v of versions) fs[v] = fitstream(r, a, sport, v);
  const first = fs[versions[0]!]!;
  rows.push({
    id: r.id,
    file: r.file,
    device: r.device,
    sport,
    altimeter: r.altimeter,
    points: a.samples.length,
    device_: {
      distanceM: rec?.distanceM ?? null,
      movingS: rec?.timerS ?? null,
      gainM: r.altimeter === 'none' ? null : (rec?.ascentM ?? null),
    },
    raw: {
      distanceM: hasFix ? rawTrackDistance(a.samples) : null,
      movingS: plainMoving(a.samples, sport),
      gainM: first.gainM === null ? null : plainGain(a.samples, 3),
    },
    gpxpy: null,
    fitstream: fs,
  });
}
if (withGpxpy) {
  const g = gpxpyFigures(gpxText);
  for (const row of rows) row.gpxpy = g.get(row.id) ?? null;
}

// ---- report ----
const pct = (x: number | null, ref: number | null) =>
  x === null || ref === null || ref === 0 ? null : ((x - ref) / ref) * 100;
const fmt = (x: number | null, d = 0) => (x === null ? '—' : x.toFixed(d));
const sg = (x: number | null) => (x === null ? '' : ` (${x >= 0 ? '+' : ''}${x.toFixed(1)} %)`);

type Fig = keyof Figures;
/** the reference a figure is judged by: the device's total, else (distance only) raw haversine */
function reference(row: Row, f: Fig): { value: number | null; what: string } {
  if (row.device_[f] !== null && row.device_[f] !== 0) return { value: row.device_[f], what: 'device' };
  if (f === 'distanceM' && row.raw.distanceM !== null) return { value: row.raw.distanceM, what: 'raw' };
  return { value: null, what: '—' };
}

function figureTable(f: Fig, title: string, digits: number): string {
  const head = [
    `| recording | device | sport | ref | device | raw / plain | gpxpy | ${versions.map((v) => `Fitstream ${v}`).join(' | ')} |`,
    `|---|---|---|---|---|---|---|${versions.map(() => '---').join('|')}|`,
  ];
  const body = rows.map((row) => {
    const ref = reference(row, f);
    const cell = (x: number | null) =>
      `${fmt(x, digits)}${ref.what === 'raw' && x === ref.value ? '' : sg(pct(x, ref.value))}`;
    return `| ${row.id} | ${row.device} | ${row.sport} | ${ref.what} | ${fmt(row.device_[f], digits)} | ${cell(row.raw[f])} | ${cell(row.gpxpy?.[f] ?? null)} | ${versions.map((v) => cell(row.fitstream[v]![f])).join(' | ')} |`;
  });
  return [`### ${title}`, '', ...head, ...body].join('\n');
}

function trackTable(): string {
  return [
    '### Smoothed track vs the fixes it came from (median / max distance, m; rejected fixes left out)',
    '',
    `| recording | ${versions.join(' | ')} |`,
    `|---|${versions.map(() => '---').join('|')}|`,
    ...rows.map(
      (row) =>
        `| ${row.id} | ${versions.map((v) => `${fmt(row.fitstream[v]!.trackMedianM, 1)} / ${fmt(row.fitstream[v]!.trackMaxM, 1)}`).join(' | ')} |`,
    ),
  ].join('\n');
}

function summaryTable(): string {
  const out = [
    '### Worst and mean absolute error against the reference, over the recordings that have one',
    '',
    '| figure | method | n | mean \\|err\\| % | max \\|err\\| % | within bound |',
    '|---|---|---|---|---|---|',
  ];
  const bound: Record<Fig, number> = { distanceM: 1, movingS: 2, gainM: 5 };
  for (const f of ['distanceM', 'movingS', 'gainM'] as Fig[]) {
    const methods: [string, (r: Row) => number | null][] = [
      ['raw / plain', (r) => r.raw[f]],
      ['gpxpy', (r) => r.gpxpy?.[f] ?? null],
      ...versions.map((v): [string, (r: Row) => number | null] => [
        `Fitstream ${v}`,
        (r) => r.fitstream[v]![f],
      ]),
    ];
    for (const [name, get] of methods) {
      const errs: number[] = [];
      for (const r of rows) {
        const ref = reference(r, f);
        // gain: the device's ascent is a reference on barometric recordings only
        if (f === 'gainM' && r.altimeter !== 'barometric') continue;
        if (ref.what === 'raw' && name === 'raw / plain') continue;
        const e = pct(get(r), ref.value);
        if (e !== null) errs.push(Math.abs(e));
      }
      if (errs.length === 0) continue;
      const within = errs.filter((e) => e <= bound[f]).length;
      out.push(
        `| ${f} | ${name} | ${errs.length} | ${(errs.reduce((a, b) => a + b, 0) / errs.length).toFixed(2)} | ${Math.max(...errs).toFixed(2)} | ${within} / ${errs.length} (≤ ${bound[f]} %) |`,
      );
    }
  }
  return out.join('\n');
}

/** per recording, the first and the last version side by side with the peers: Δ % against each
 * figure's reference (gain: barometric recordings only; moving time: where the device has a timer) */
function beforeAfterTable(): string {
  const before = versions[0]!;
  const after = versions[versions.length - 1]!;
  const cell = (row: Row, f: Fig, x: number | null): string => {
    const ref = reference(row, f);
    if (f === 'gainM' && row.altimeter !== 'barometric') return '—';
    const e = pct(x, ref.value);
    return e === null ? '—' : `${e >= 0 ? '+' : ''}${e.toFixed(2)}`;
  };
  const figs: [Fig, string][] = [
    ['distanceM', 'distance'],
    ['movingS', 'moving'],
    ['gainM', 'gain'],
  ];
  const out = [
    `### Before (${before}) and after (${after}), Δ % against the reference, with the peers`,
    '',
    'Distance: against the device total, else raw haversine (raw is then the reference itself). Moving time:',
    "against the device timer. Gain: against the device's barometric ascent. Each cell: before → after (raw / gpxpy).",
    '',
    `| recording | ref | ${figs.map(([, t]) => t).join(' | ')} |`,
    `|---|---|${figs.map(() => '---').join('|')}|`,
  ];
  for (const row of rows) {
    const cells = figs.map(([f]) => {
      const b = cell(row, f, row.fitstream[before]![f]);
      const a = cell(row, f, row.fitstream[after]![f]);
      if (b === '—' && a === '—') return '—';
      const raw = reference(row, f).what === 'raw' ? 'ref' : cell(row, f, row.raw[f]);
      return `${b} → **${a}** (${raw} / ${cell(row, f, row.gpxpy?.[f] ?? null)})`;
    });
    out.push(`| ${row.id} | ${reference(row, 'distanceM').what} | ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

const md = [
  `# Real recordings: Fitstream vs the device and peers`,
  '',
  `\`npx tsx bench/real-accuracy.ts\`, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, gpxpy ${withGpxpy ? GPXPY_VERSION : '(skipped)'}.`,
  'Δ % against the reference (ref): the device total where the file has one, else raw haversine (distance).',
  'Gain: the device ascent is the reference only where the altimeter is barometric (column in SOURCES.md).',
  '',
  summaryTable(),
  '',
  beforeAfterTable(),
  '',
  figureTable('distanceM', 'Distance, m', 0),
  '',
  figureTable('movingS', 'Moving time, s', 0),
  '',
  figureTable('gainM', 'Elevation gain, m', 0),
  '',
  trackTable(),
  '',
].join('\n');

const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'real-accuracy.json'),
  `${JSON.stringify({ versions, gpxpy: withGpxpy ? GPXPY_VERSION : null, rows }, null, 2)}\n`,
);
writeFileSync(join(outDir, 'real-accuracy.md'), md);
console.log(md);
