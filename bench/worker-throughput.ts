// Worker throughput: Kafka -> decode -> ClickHouse + S3 archive + Redis live + finalisation.
//
//   npx tsx bench/worker-throughput.ts [--samples 1000000] [--session-s 1800] [--partitions 12]
//                                      [--rate 0] [--workers 1] [--out bench/results/worker-throughput]
//                                      [--clickhouse-url URL --clickhouse-pid-file FILE]
//
// Phase 1 (drain): pre-fills a private topic with --samples synthetic samples (bench/synth, in
// TelemetryBatch records of 10–60 samples, start + end per session), then starts the worker and
// times it until every offset is committed and every activity is written: samples/s, CPU ms per
// 1k samples for the worker process and for ClickHouse/Kafka (from /proc), flush durations.
// Phase 2 (lag, when --rate > 0): produces at --rate samples/s for --lag-s seconds while the
// worker runs and reports the end-to-end lag (Kafka timestamp → all sinks acked), p50/p99/max.
// Private topic, consumer group, ClickHouse database and S3 prefix; dropped at the end.
// --workers N (N > 1, or --spawn for N = 1): the drain runs N worker processes (this file forked
// with --child: the same startWorker and config, one consumer group) instead of the in-process
// worker; worker CPU is the sum of the children's utime + stime from /proc, from just before they
// start their workers (modules loaded) to the last commit. No lag phase with child processes.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../services/common/logger.js';
import { type RunningWorker, startWorker } from '../services/worker/app.js';
import { computeActivity } from '../services/worker/compute.js';
import type { WorkerConfig } from '../services/worker/config.js';
import type { FlushStats } from '../services/worker/worker.js';
import { isolate, type Outbound, rows } from '../test/support/worker.js';
import { generateSession } from './synth/index.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '1000000' },
    'session-s': { type: 'string', default: '1800' },
    partitions: { type: 'string', default: '12' },
    rate: { type: 'string', default: '0' },
    'lag-s': { type: 'string', default: '20' },
    'batch-rows': { type: 'string', default: '50000' },
    'flush-ms': { type: 'string', default: '1000' },
    // WORKER_FINALISE_MEMORY_MB: 0 reads every session back from ClickHouse at finalisation
    'image-mb': { type: 'string', default: '256' },
    out: { type: 'string', default: 'bench/results/worker-throughput' },
    // worker processes in the consumer group (> 1: child processes, see the header)
    workers: { type: 'string', default: '1' },
    // child processes even for --workers 1 (to compare like with like)
    spawn: { type: 'boolean', default: false },
    // internal: this process is one of the bench's worker processes
    child: { type: 'boolean', default: false },
    // another ClickHouse server (and the file holding its pid, for its CPU figures)
    'clickhouse-url': { type: 'string', default: '' },
    'clickhouse-pid-file': { type: 'string', default: '.data/run/clickhouse.pid' },
  },
});
const N = Number(values.samples);
const SESSION_S = Number(values['session-s']);
const RATE = Number(values.rate);
const WORKERS = Number(values.workers);
const SPAWN = WORKERS > 1 || values.spawn;
if (!Number.isInteger(WORKERS) || WORKERS < 1) throw new Error('--workers must be an integer >= 1');
if (SPAWN && RATE > 0 && !values.child)
  throw new Error('--rate is only supported with the in-process worker');

type Msg = { type: string; [k: string]: unknown };
/** Messages by type, in arrival order; `next(type)` waits for the first one not yet taken. */
function mailbox(subscribe: (cb: (m: Msg) => void) => void) {
  const got: Msg[] = [];
  const waiting: { type: string; resolve: (m: Msg) => void }[] = [];
  subscribe((m) => {
    const i = waiting.findIndex((x) => x.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
    else got.push(m);
  });
  return (type: string): Promise<Msg> => {
    const i = got.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(got.splice(i, 1)[0]!);
    return new Promise((resolve) => waiting.push({ type, resolve }));
  };
}

if (values.child) {
  // one worker process of a --workers N run: ready → go (startWorker) → stats → close
  const config = JSON.parse(process.env.FITSTREAM_BENCH_WORKER_CONFIG ?? '') as WorkerConfig;
  const next = mailbox((cb) => process.on('message', (m) => cb(m as Msg)));
  const send = (m: Msg) =>
    new Promise<void>((res, rej) => process.send!(m, (err: Error | null) => (err ? rej(err) : res())));
  await send({ type: 'ready' });
  await next('go');
  const flushes: FlushStats[] = [];
  const w = await startWorker(config, computeActivity, createLogger('bench-worker', 'warn'), undefined, {
    onFlushed: (s) => flushes.push(s),
  });
  await send({ type: 'started' });
  await next('stats');
  await send({
    type: 'stats',
    inputs: { ...w.sessions.inputs },
    // wall clock (ms) of the first record consumed, comparable across processes; 0: none
    firstRecordWallMs: w.source.firstRecordAt ? performance.timeOrigin + w.source.firstRecordAt : 0,
    flushes,
  });
  await next('close');
  await w.close();
  await send({ type: 'closed' });
  process.exit(0);
}

function pidCpuMs(pid: number | string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return null;
  }
}
/** Peak resident set (VmHWM) of a process, MB; null when unknown. */
function peakRssMb(pid: number | undefined): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}
function procCpuMs(pidFile: string): number | null {
  try {
    return pidCpuMs(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return null;
  }
}

interface Kid {
  proc: ChildProcess;
  next: (type: string) => Promise<Msg>;
  exited: boolean;
}
/** Forks n worker processes and waits until each has loaded its modules. */
async function spawnWorkers(n: number, config: WorkerConfig): Promise<Kid[]> {
  const kids: Kid[] = [];
  for (let i = 0; i < n; i++) {
    const proc = fork(process.argv[1]!, ['--child'], {
      env: { ...process.env, FITSTREAM_BENCH_WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const kid: Kid = { proc, next: mailbox((cb) => proc.on('message', (m) => cb(m as Msg))), exited: false };
    proc.on('exit', () => {
      kid.exited = true;
    });
    kids.push(kid);
  }
  // a child that dies while loading (e.g. a compile error) fails the run instead of hanging it
  await Promise.all(
    kids.map((k) =>
      Promise.race([
        k.next('ready'),
        new Promise<never>((_, rej) =>
          k.proc.once('exit', (code) =>
            rej(new Error(`worker process exited (${code}) before it was ready`)),
          ),
        ),
      ]),
    ),
  );
  return kids;
}
async function closeWorkers(kids: Kid[]): Promise<void> {
  await Promise.all(
    kids.map(async (k) => {
      if (k.exited) return;
      k.proc.send({ type: 'close' });
      const closed = await Promise.race([
        k.next('closed').then(() => true),
        // unref: a pending timer would keep this process alive after the run
        new Promise<boolean>((r) => setTimeout(() => r(false), 60_000).unref()),
      ]);
      if (!closed && !k.exited) k.proc.kill('SIGKILL');
    }),
  );
}
const serverCpu = () => ({
  clickhouse: procCpuMs(values['clickhouse-pid-file']),
  kafka: procCpuMs('.data/run/kafka.pid'),
  redis: procCpuMs('.data/run/redis.pid'),
  s3: procCpuMs('.data/run/s3.pid'),
});

/** Sessions of SESSION_S samples until N samples, split into records of 10–60 samples. */
function buildRecords(
  n: number,
  tag: string,
  t0: number,
): { records: Outbound[]; samples: number; sessions: number } {
  const records: Outbound[] = [];
  let total = 0;
  let i = 0;
  while (total < n) {
    const d = Math.min(SESSION_S, n - total - 1);
    const { samples } = generateSession({
      sport: i % 4 === 1 ? 'cycling' : 'running',
      seed: i + 1,
      durationS: Math.max(1, d),
      startTs: t0 + i * 1000,
    });
    const ids = {
      userId: `bench-u-${i % 500}`,
      deviceId: `bench-d-${tag}-${i}`,
      sessionId: `bench-s-${tag}-${i}`,
    };
    const base = { ...ids, sport: i % 4 === 1 ? ('cycling' as const) : ('running' as const) };
    records.push({
      name: 'SessionControl',
      value: { ...base, kind: 'start', ts: samples[0]!.ts, receivedAt: Date.now() },
    });
    let j = 0;
    let k = 0;
    while (j < samples.length) {
      const size = 10 + ((i * 7 + k++ * 13) % 51);
      records.push({
        name: 'TelemetryBatch',
        value: {
          ...base,
          samples: samples.slice(j, j + size),
          sets: [],
          source: 'bench',
          receivedAt: Date.now(),
        },
      });
      j += size;
    }
    records.push({
      name: 'SessionControl',
      value: { ...base, kind: 'end', ts: samples.at(-1)!.ts, receivedAt: Date.now() },
    });
    total += samples.length;
    i++;
  }
  return { records, samples: total, sessions: i };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
};

const iso = await isolate({
  partitions: Number(values.partitions),
  env: {
    WORKER_FLUSH_INTERVAL_MS: values['flush-ms'],
    WORKER_BATCH_ROWS: values['batch-rows'],
    WORKER_SESSION_TIMEOUT_S: '3600',
    WORKER_SWEEP_INTERVAL_MS: '60000',
    WORKER_FROM_BEGINNING: 'true',
    WORKER_FINALISE_MEMORY_MB: values['image-mb'],
    ...(values['clickhouse-url'] ? { CLICKHOUSE_URL: values['clickhouse-url'] } : {}),
  },
});
const logger = createLogger('bench', 'warn');
let kids: Kid[] = [];
try {
  // ---- prefill
  const tag = iso.id;
  const t0 = Date.UTC(2026, 10, 1);
  const built = buildRecords(N, tag, t0);
  const encStart = performance.now();
  const messages = await Promise.all(
    built.records.map(async (r) => ({
      key: r.value.sessionId,
      value: await iso.codec.encode(r.name, r.value as never),
    })),
  );
  const bytes = messages.reduce((a, m) => a + m.value.length, 0);
  for (let i = 0; i < messages.length; i += 2000) {
    await iso.producer.send({ topic: iso.topic, acks: -1, messages: messages.slice(i, i + 2000) });
  }
  const prefillS = (performance.now() - encStart) / 1000;
  console.error(
    `prefilled ${built.samples} samples in ${built.records.length} records (${(bytes / 1e6).toFixed(1)} MB), ${built.sessions} sessions, ${prefillS.toFixed(1)} s`,
  );

  // ---- drain
  // (for bench/worker-cpuprofile-top.ts --skip-ms: the profile starts with the process)
  console.error(`drain starts ${Math.round(performance.now())} ms after the process started`);
  const flushes: FlushStats[] = [];
  if (SPAWN) kids = await spawnWorkers(WORKERS, iso.config);
  const load0 = os.loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const srv0 = serverCpu();
  const kid0 = kids.map((k) => pidCpuMs(k.proc.pid!));
  const start = performance.now();
  let w: RunningWorker | null = null;
  if (SPAWN) {
    for (const k of kids) k.proc.send({ type: 'go' });
  } else {
    w = await startWorker(iso.config, computeActivity, logger, undefined, {
      onFlushed: (s) => flushes.push(s),
    });
  }
  const admin = iso.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(iso.topic);
  const endOf = new Map(ends.map((e) => [e.partition, e.offset]));
  let doneAt = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const committed = await admin.fetchOffsets({ groupId: iso.group, topics: [iso.topic] });
    const all = committed[0]!.partitions.every((p) => p.offset === endOf.get(p.partition));
    if (all) {
      doneAt = performance.now();
      break;
    }
    if (kids.some((k) => k.exited)) throw new Error('a worker process exited during the drain');
    if (performance.now() - start > 30 * 60_000) throw new Error('drain did not finish in 30 min');
  }
  const cpu = process.cpuUsage(cpu0);
  const kid1 = kids.map((k) => pidCpuMs(k.proc.pid!));
  const load1 = os.loadavg()[0]!;
  const srv1 = serverCpu();
  const drainS = (doneAt - start) / 1000;
  let firstRecordAt = w?.source.firstRecordAt ?? 0;
  const finaliseInputs = { memory: 0, clickhouse: 0, ...w?.sessions.inputs };
  const workerProcesses: {
    cpuMs: number;
    flushes: number;
    memory: number;
    clickhouse: number;
    peakRssMb: number | null;
  }[] = [];
  if (SPAWN) {
    for (const k of kids) k.proc.send({ type: 'stats' });
    const stats = await Promise.all(kids.map((k) => k.next('stats')));
    const firsts = stats.map((s) => s.firstRecordWallMs as number).filter((t) => t > 0);
    firstRecordAt = firsts.length ? Math.min(...firsts) - performance.timeOrigin : start;
    stats.forEach((s, i) => {
      const inputs = s.inputs as { memory: number; clickhouse: number };
      finaliseInputs.memory += inputs.memory;
      finaliseInputs.clickhouse += inputs.clickhouse;
      flushes.push(...(s.flushes as FlushStats[]));
      const c0 = kid0[i];
      const c1 = kid1[i];
      if (c0 == null || c1 == null) throw new Error('no /proc stat for a worker process');
      workerProcesses.push({
        cpuMs: c1 - c0,
        flushes: (s.flushes as FlushStats[]).length,
        memory: inputs.memory,
        clickhouse: inputs.clickhouse,
        peakRssMb: peakRssMb(kids[i]!.proc.pid),
      });
    });
  }
  // from the first record consumed: without the consumer-group join and start-up
  const flowS = (doneAt - firstRecordAt) / 1000;
  const [acts] = await rows<{ n: number }>(iso.ch, `SELECT count() AS n FROM ${iso.database}.activities_v`);
  const [smp] = await rows<{ n: number; c: number }>(
    iso.ch,
    `SELECT count() AS n, sum(cleaned) AS c FROM ${iso.database}.samples_v`,
  );
  // in-process: this process (the bench's own polling included); else the sum over the children
  const workerCpuMs = SPAWN
    ? workerProcesses.reduce((a, p) => a + p.cpuMs, 0)
    : (cpu.user + cpu.system) / 1000;
  const perK = (ms: number | null, ms0: number | null) =>
    ms === null || ms0 === null ? null : Number((((ms - ms0) / built.samples) * 1000).toFixed(2));
  const drain = {
    samples: built.samples,
    records: built.records.length,
    sessions: built.sessions,
    mb: Number((bytes / 1e6).toFixed(1)),
    seconds: Number(drainS.toFixed(2)),
    samplesPerS: Math.round(built.samples / drainS),
    startupS: Number((drainS - flowS).toFixed(2)),
    samplesPerSFromFirstRecord: Math.round(built.samples / flowS),
    finaliseInputs,
    ...(SPAWN ? { workerProcesses } : {}),
    workerCpuMsPer1kSamples: Number(((workerCpuMs / built.samples) * 1000).toFixed(2)),
    workerCpuCores: Number((workerCpuMs / 1000 / drainS).toFixed(2)),
    serverCpuMsPer1kSamples: {
      clickhouse: perK(srv1.clickhouse, srv0.clickhouse),
      kafka: perK(srv1.kafka, srv0.kafka),
      redis: perK(srv1.redis, srv0.redis),
      s3: perK(srv1.s3, srv0.s3),
    },
    flushes: flushes.length,
    flushP50Ms: Math.round(
      pct(
        flushes.map((f) => f.durationMs),
        50,
      ),
    ),
    flushP99Ms: Math.round(
      pct(
        flushes.map((f) => f.durationMs),
        99,
      ),
    ),
    flushSinksP50Ms: Math.round(
      pct(
        flushes.map((f) => f.sinksMs),
        50,
      ),
    ),
    flushWaitP50Ms: Math.round(
      pct(
        flushes.map((f) => f.waitMs),
        50,
      ),
    ),
    flushFinaliseP50Ms: Math.round(
      pct(
        flushes.map((f) => f.finaliseMs),
        50,
      ),
    ),
    flushPerSinkMs: flushes.map((f) => f.sinkMs),
    activitiesWritten: Number(acts!.n),
    sampleRows: Number(smp!.n),
    cleanedRows: Number(smp!.c),
  };
  console.error(JSON.stringify(drain));

  // ---- steady-rate lag
  let lag: Record<string, number> | null = null;
  if (RATE > 0) {
    const lagS = Number(values['lag-s']);
    const live = buildRecords(RATE * lagS, `${tag}-live`, t0 + 86_400_000);
    flushes.length = 0;
    const perTick = Math.ceil(live.records.length / (lagS * 10));
    const tStart = performance.now();
    for (let i = 0; i < live.records.length; i += perTick) {
      const chunk = live.records.slice(i, i + perTick);
      const msgs = await Promise.all(
        chunk.map(async (r) => ({
          key: r.value.sessionId,
          value: await iso.codec.encode(r.name, r.value as never),
        })),
      );
      await iso.producer.send({ topic: iso.topic, acks: -1, messages: msgs });
      const due = tStart + (i / perTick + 1) * 100;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise((r) => setTimeout(r, 5000));
    const lags = flushes.map((f) => f.maxLagMs);
    lag = {
      rateSamplesPerS: RATE,
      seconds: lagS,
      flushes: flushes.length,
      p50Ms: Math.round(pct(lags, 50)),
      p99Ms: Math.round(pct(lags, 99)),
      maxMs: Math.round(Math.max(0, ...lags)),
    };
    console.error(JSON.stringify(lag));
  }
  await admin.disconnect();
  await w?.close();
  const closeStart = performance.now();
  await closeWorkers(kids);
  if (SPAWN)
    console.error(`worker processes closed in ${((performance.now() - closeStart) / 1000).toFixed(1)} s`);

  const result = {
    at: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      node: process.version,
      // other processes share the box: the 1-minute load average before/after the drain
      loadAvg1m: [Number(load0.toFixed(2)), Number(load1.toFixed(2))],
    },
    config: {
      imageMb: Number(values['image-mb']),
      samples: N,
      sessionS: SESSION_S,
      partitions: Number(values.partitions),
      batchRows: Number(values['batch-rows']),
      ...(SPAWN ? { workers: WORKERS, workerProcessesSpawned: true } : {}),
    },
    drain,
    lag,
  };
  writeFileSync(`${values.out}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    '# Worker throughput',
    '',
    `Run ${result.at} on ${result.machine.cores} cores (${result.machine.node}); everything (Kafka, ClickHouse 18.16, Redis, S3, worker) on the same box; 1-minute load average ${result.machine.loadAvg1m.join(' → ')} (other processes included).`,
    `Command: \`npx tsx bench/worker-throughput.ts --samples ${N} --session-s ${SESSION_S} --partitions ${values.partitions}${RATE ? ` --rate ${RATE} --lag-s ${values['lag-s']}` : ''}${WORKERS > 1 ? ` --workers ${WORKERS}` : ''}${values.spawn ? ' --spawn' : ''}\``,
    '',
    '| measure | value |',
    '|---|---|',
    `| samples (records, sessions) | ${drain.samples} (${drain.records}, ${drain.sessions}) |`,
    `| drain time | ${drain.seconds} s |`,
    `| **throughput, Kafka → all sinks + finalisation** | **${drain.samplesPerS} samples/s** |`,
    `| same, from the first record consumed (without ${drain.startupS} s of start-up and group join) | ${drain.samplesPerSFromFirstRecord} samples/s |`,
    `| finalisation input: in memory / read back from ClickHouse (sessions) | ${drain.finaliseInputs.memory} / ${drain.finaliseInputs.clickhouse} |`,
    `| worker CPU per 1k samples${SPAWN ? `, summed over ${WORKERS} worker process${WORKERS > 1 ? 'es' : ''}` : ''} | ${drain.workerCpuMsPer1kSamples} ms (${drain.workerCpuCores} cores busy) |`,
    ...(SPAWN
      ? [
          `| per worker process: CPU ms, flushes, finalised from memory / read back, peak RSS MB | ${workerProcesses.map((p) => `${Math.round(p.cpuMs)}, ${p.flushes}, ${p.memory} / ${p.clickhouse}, ${p.peakRssMb ?? '–'}`).join('; ')} |`,
        ]
      : []),
    `| ClickHouse CPU per 1k samples | ${drain.serverCpuMsPer1kSamples.clickhouse ?? 'n/a'} ms |`,
    `| Kafka CPU per 1k samples | ${drain.serverCpuMsPer1kSamples.kafka ?? 'n/a'} ms |`,
    `| flushes (p50 / p99 duration) | ${drain.flushes} (${drain.flushP50Ms} / ${drain.flushP99Ms} ms) |`,
    `| activities written / sample rows / cleaned | ${drain.activitiesWritten} / ${drain.sampleRows} / ${drain.cleanedRows} |`,
    ...(lag
      ? [
          `| end-to-end lag at ${lag.rateSamplesPerS} samples/s (p50 / p99 / max) | ${lag.p50Ms} / ${lag.p99Ms} / ${lag.maxMs} ms |`,
        ]
      : []),
    '',
  ].join('\n');
  writeFileSync(`${values.out}.md`, md);
  console.log(md);
} finally {
  for (const k of kids) if (!k.exited) k.proc.kill('SIGKILL');
  await iso.cleanup();
}
