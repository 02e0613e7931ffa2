// The run's report under bench/results/load/<date>-<commit>/: result.json, summary.md and SVG plots drawn
// with vega-lite (compiled to a vega spec, rendered to SVG in Node: no browser, no native module).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { LoadResult } from './run.js';

export interface MachineInfo {
  commit: string;
  dirty: boolean;
  node: string;
  cpus: string;
  cores: number;
  memGiB: number;
  kernel: string;
}

export function machineInfo(root: string): MachineInfo {
  const git = (...a: string[]) => {
    try {
      return execFileSync('git', ['-C', root, ...a], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git('rev-parse', '--short=12', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    node: process.version,
    cpus: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
  };
}

/** The figures a run is compared on; the baseline file holds them for one reference run. */
export interface KeyFigures {
  ackedSamplesPerS: number;
  storedSamplesPerS: number;
  p99DeviceToClickhouseMs: number;
  p99DeviceToLiveMs: number;
  gatewayCpuMsPer1kMessages: number;
  workerCpuMsPer1kSamples: number;
}

export function keyFigures(r: LoadResult): KeyFigures {
  return {
    ackedSamplesPerS: Math.round(r.steady.ackedPerS),
    storedSamplesPerS: Math.round(r.steady.storedPerS),
    p99DeviceToClickhouseMs: r.latency.deviceToClickhouseMs.p99,
    p99DeviceToLiveMs: r.latency.deviceToLiveMs.p99,
    gatewayCpuMsPer1kMessages: Math.round(r.costs.gatewayCpuMsPer1kMessages * 10) / 10,
    workerCpuMsPer1kSamples: Math.round(r.costs.workerCpuMsPer1kSamples * 10) / 10,
  };
}

export interface Baseline {
  note: string;
  scenario: string;
  commit: string;
  figures: KeyFigures;
}

export const scenarioOf = (r: LoadResult) =>
  `${r.options.workouts} workouts ${r.options.format} ${r.options.perMessage}/msg mux ${r.options.mux} ` +
  `${r.options.gateways} gw ${r.options.workers} wk`;

export function ratios(now: KeyFigures, base: KeyFigures): Record<keyof KeyFigures, number> {
  const out = {} as Record<keyof KeyFigures, number>;
  for (const k of Object.keys(now) as (keyof KeyFigures)[])
    out[k] = base[k] > 0 ? Math.round((now[k] / base[k]) * 100) / 100 : 0;
  return out;
}

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

/**
 * A line chart of several series over the run's time, each line labelled at its end (no legend to hunt
 * for), the phases shaded.
 */
function lines(
  title: string,
  yTitle: string,
  rows: Array<{ t: number; series: string; value: number }>,
  phases: Array<{ from: number; to: number; phase: string }>,
): TopLevelSpec {
  const last = new Map<string, { t: number; series: string; value: number }>();
  for (const r of rows) if (!last.has(r.series) || last.get(r.series)!.t <= r.t) last.set(r.series, r);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 260,
    layer: [
      {
        data: { values: phases },
        mark: { type: 'rect', opacity: 0.08 },
        encoding: {
          x: { field: 'from', type: 'quantitative' },
          x2: { field: 'to' },
          color: { field: 'phase', type: 'nominal', legend: null, scale: { scheme: 'greys' } },
        },
      },
      {
        data: { values: phases },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 3, fontSize: 9, color: '#666' },
        encoding: { x: { field: 'from', type: 'quantitative' }, y: { value: 0 }, text: { field: 'phase' } },
      },
      {
        data: { values: rows },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 's since start' },
          y: { field: 'value', type: 'quantitative', title: yTitle },
          color: { field: 'series', type: 'nominal', legend: null },
        },
      },
      {
        data: { values: [...last.values()] },
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 10 },
        encoding: {
          x: { field: 't', type: 'quantitative' },
          y: { field: 'value', type: 'quantitative' },
          text: { field: 'series' },
          color: { field: 'series', type: 'nominal', legend: null },
        },
      },
    ],
  } as TopLevelSpec;
}

export async function writePlots(r: LoadResult, dir: string): Promise<string[]> {
  const phases: Array<{ from: number; to: number; phase: string }> = [];
  for (const p of r.series) {
    const cur = phases[phases.length - 1];
    if (cur && cur.phase === p.phase) cur.to = p.t;
    else phases.push({ from: cur?.to ?? 0, to: p.t, phase: p.phase });
  }
  const s = r.series;
  const plots: Array<[string, TopLevelSpec]> = [
    [
      'throughput.svg',
      lines(
        'Samples per second: sent by the devices, acknowledged by the gateway, stored in ClickHouse',
        'samples/s',
        s.flatMap((p) => [
          { t: p.t, series: 'sent', value: p.sentPerS },
          { t: p.t, series: 'acked', value: p.ackedPerS },
          { t: p.t, series: 'stored', value: p.storedPerS },
        ]),
        phases,
      ),
    ],
    [
      'latency.svg',
      lines(
        'Latency from the device (send time) to a ClickHouse row and to the live state in Redis, per 2 s window',
        'ms',
        s.flatMap((p) => [
          ...(p.ch.n ? [{ t: p.t, series: 'ClickHouse p50', value: p.ch.p50 }] : []),
          ...(p.ch.n ? [{ t: p.t, series: 'ClickHouse p99', value: p.ch.p99 }] : []),
          ...(p.live.n ? [{ t: p.t, series: 'live p50', value: p.live.p50 }] : []),
          ...(p.live.n ? [{ t: p.t, series: 'live p99', value: p.live.p99 }] : []),
        ]),
        phases,
      ),
    ],
    [
      'lag.svg',
      lines(
        'Kafka consumer lag of the worker group (records)',
        'records',
        s.map((p) => ({ t: p.t, series: 'lag', value: p.lag })),
        phases,
      ),
    ],
    [
      'cpu.svg',
      lines(
        'CPU per process (% of one core)',
        '% of a core',
        s.flatMap((p) => Object.entries(p.cpu).map(([k, v]) => ({ t: p.t, series: k, value: v }))),
        phases,
      ),
    ],
    [
      'rss.svg',
      lines(
        'Resident memory per process (MiB)',
        'MiB',
        s.flatMap((p) => Object.entries(p.rssMiB).map(([k, v]) => ({ t: p.t, series: k, value: v }))),
        phases,
      ),
    ],
  ];
  const written: string[] = [];
  for (const [file, spec] of plots) {
    writeFileSync(join(dir, file), await svg(spec));
    written.push(file);
  }
  return written;
}

const f0 = (x: number) => Math.round(x).toLocaleString('en-US');
const f1 = (x: number) => (Math.round(x * 10) / 10).toLocaleString('en-US');

export function summaryMarkdown(
  r: LoadResult,
  m: MachineInfo,
  command: string,
  baseline: Baseline | null,
): string {
  const k = keyFigures(r);
  const rec = r.reconciliation;
  const lat = r.latency;
  const rat = baseline ? ratios(k, baseline.figures) : null;
  const cpuRows = Object.entries(r.steady.cpu)
    .sort((a, b) => b[1] - a[1])
    .map(([p, v]) => `| ${p} | ${f1(v * 100)} | ${f0(r.steady.maxRssMiB[p] ?? 0)} |`)
    .join('\n');
  const lines = [
    `# Load run ${r.runId}: ${scenarioOf(r)}`,
    '',
    `Started ${r.startedAt}, ${f0(r.elapsedS)} s. Commit ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}, ` +
      `Node ${m.node}, ${m.cores} × ${m.cpus}, ${m.memGiB} GiB, Linux ${m.kernel}. Every server, service and the generator on this machine; 1-minute load average in steady state ${r.steady.load1.mean} (max ${r.steady.load1.max}) on ${m.cores} cores.`,
    '',
    `Command: \`${command}\``,
    '',
    '## Result',
    '',
    `| figure | value |${rat ? ' ratio to baseline |' : ''}`,
    `|---|---|${rat ? '---|' : ''}`,
    ...(
      [
        ['samples/s acknowledged (steady)', f0(k.ackedSamplesPerS), 'ackedSamplesPerS'],
        ['samples/s stored (steady)', f0(k.storedSamplesPerS), 'storedSamplesPerS'],
        [
          'device → ClickHouse p50 / p95 / p99 ms',
          `${f0(lat.deviceToClickhouseMs.p50)} / ${f0(lat.deviceToClickhouseMs.p95)} / ${f0(lat.deviceToClickhouseMs.p99)}`,
          'p99DeviceToClickhouseMs',
        ],
        [
          'device → live (Redis) p50 / p95 / p99 ms',
          `${f0(lat.deviceToLiveMs.p50)} / ${f0(lat.deviceToLiveMs.p95)} / ${f0(lat.deviceToLiveMs.p99)}`,
          'p99DeviceToLiveMs',
        ],
        ['gateway CPU ms per 1k messages', f1(k.gatewayCpuMsPer1kMessages), 'gatewayCpuMsPer1kMessages'],
        ['worker CPU ms per 1k samples', f1(k.workerCpuMsPer1kSamples), 'workerCpuMsPer1kSamples'],
      ] as const
    ).map(([a, b, key]) => `| ${a} | ${b} |${rat ? ` ${rat[key]} |` : ''}`),
    `| Kafka lag: max / growth in steady state | ${f0(r.steady.maxLag)} records / ${f0(r.steady.lagGrowthPerMin)} per min |${rat ? ' |' : ''}`,
    `| MQTT sockets held at once | ${f0(r.maxSockets)} (${r.options.mux > 1 ? `${r.options.mux} devices per connection, bridge mode` : 'one per device'}) |${rat ? ' |' : ''}`,
    `| samples sent (duplicates and replays included) / distinct / acknowledged | ${f0(r.generator.samplesSent)} / ${f0(r.generator.samplesUnique)} / ${f0(r.generator.samplesAcked)} |${rat ? ' |' : ''}`,
    `| duplicate messages / held back (out of order) / samples replayed after a dropout | ${f0(r.generator.duplicatesSent)} / ${f0(r.generator.reordered)} / ${f0(r.generator.replayedSamples)} |${rat ? ' |' : ''}`,
    `| workouts cut at the deadline (not started or stopped early, \`--grace-s\`) | ${f0(r.generator.workoutsCut)} |${rat ? ' |' : ''}`,
    `| errors / connect errors | ${f0(r.generator.errors)} / ${f0(r.generator.connectErrors)} |${rat ? ' |' : ''}`,
    '',
    baseline
      ? `Baseline: ${baseline.scenario} at ${baseline.commit} (${baseline.note}).`
      : 'No baseline file.',
    '',
    '## Reconciliation',
    '',
    `- samples: expected ${f0(rec.expectedSamples)}, in query results (FINAL) ${f0(rec.rowsFinal)}, distinct ${f0(rec.uniqueStored)}, ` +
      `stored rows before merges ${f0(rec.rowsRaw)}; **missing ${f0(rec.missingSamples)}, duplicates ${f0(rec.duplicateSamples)}, extra ${f0(rec.extraSamples)}**`,
    `- workouts finished ${f0(rec.finishedWorkouts)}: with one activity ${f0(rec.activities - rec.workoutsWithSeveralActivities)}, ` +
      `without ${f0(rec.workoutsWithoutActivity)}, with several ${f0(rec.workoutsWithSeveralActivities)}`,
    `- distance against the ground truth: |error| mean ${rec.distanceErrorPct.mean.toFixed(2)} %, ` +
      `p95 ${rec.distanceErrorPct.p95.toFixed(2)} %, max ${rec.distanceErrorPct.max.toFixed(2)} %; ` +
      `${f0(rec.distanceOutsideBound)} outside ±${rec.distanceBoundPct} % (at least ±${rec.distanceBoundFloorM} m)`,
    ...(rec.mismatches.length
      ? [
          '',
          'First sessions that do not reconcile:',
          '',
          '| session | expected | rows | distinct | missing seqs |',
          '|---|---|---|---|---|',
          ...rec.mismatches
            .slice(0, 10)
            .map(
              (x) => `| ${x.sessionId} | ${x.expected} | ${x.rows} | ${x.unique} | ${x.missing.join(' ')} |`,
            ),
        ]
      : []),
    '',
    `ClickHouse \`samples\` at the end: ${f0(r.storage.rows)} rows in active parts, ${f0(r.storage.bytes / 1048576)} MiB compressed, ${r.storage.bytesPerSample} bytes per sample.`,
    '',
    r.finaliseInputs && Object.keys(r.finaliseInputs).length
      ? `Sessions finalised from the worker's in-memory image / read back from ClickHouse: ${f0(r.finaliseInputs.memory ?? 0)} / ${f0(r.finaliseInputs.clickhouse ?? 0)} (workers' session timeout ${r.options.sessionTimeoutS ?? 120} s).`
      : `Sessions finalised from memory / read back: not read from the workers (workers' session timeout ${r.options.sessionTimeoutS ?? 120} s).`,
    '',
    `DLQ by reason: ${
      Object.keys(r.dlq).length
        ? Object.entries(r.dlq)
            .map(([a, b]) => `${a} ${b}`)
            .join(', ')
        : 'none'
    }`,
    '',
    '## CPU (steady state, % of one core) and peak RSS per process',
    '',
    '| process | CPU % | RSS MiB |',
    '|---|---|---|',
    cpuRows,
    '',
    ...(r.baselines.bareAedes
      ? [
          '## Gateway against a bare aedes broker (same workouts, same load)',
          '',
          `bare aedes (no auth, no validation, no Kafka): ${f0(r.baselines.bareAedes.messagesPerS)} messages/s, ` +
            `${f1(r.baselines.bareAedes.brokerCpuMsPer1kMessages)} CPU ms per 1k messages; the gateway ${f1(k.gatewayCpuMsPer1kMessages)} ` +
            `— ratio ${r.baselines.bareAedes.gatewayCostRatio.toFixed(2)}`,
          '',
        ]
      : []),
    ...(r.failures.length ? ['## Failures', '', ...r.failures.map((f) => `- ${f}`), ''] : []),
    '## Plots',
    '',
    '![throughput](throughput.svg)',
    '![latency](latency.svg)',
    '![lag](lag.svg)',
    '![cpu](cpu.svg)',
    '![rss](rss.svg)',
    '',
  ];
  return lines.join('\n');
}

export function readBaseline(file: string): Baseline | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as Baseline;
}

export async function writeReport(
  r: LoadResult,
  root: string,
  outRoot: string,
  command: string,
  baselineFile: string,
): Promise<{ dir: string; ratios: Record<string, number> | null }> {
  const m = machineInfo(root);
  const dir = join(outRoot, `${r.startedAt.slice(0, 19).replace(/:/g, '')}-${m.commit}`);
  mkdirSync(dir, { recursive: true });
  const baseline = readBaseline(baselineFile);
  writeFileSync(
    join(dir, 'result.json'),
    `${JSON.stringify({ machine: m, command, figures: keyFigures(r), ...r }, null, 1)}\n`,
  );
  await writePlots(r, dir);
  writeFileSync(join(dir, 'summary.md'), summaryMarkdown(r, m, command, baseline));
  return { dir, ratios: baseline ? ratios(keyFigures(r), baseline.figures) : null };
}
