// Worker throughput: Kafka -> decode -> ClickHouse + S3 archive + Redis live + finalisation.
//
//   npx tsx bench/worker-throughput.ts [--samples 1000000] [--session-s 1800] [--partitions 12]
//                                      [--rate 0] [--workers 1] [--out bench/results/worker-throughput]
//                                      [--clickhouse-url URL --clickhouse-pid-file FILE]
//
// Rounds (--rounds, default 2): over the same prefilled topic, alternating, (a) a bare baseline —
// kafkajs consume + Avro decode + one RowBinary insert of the raw rows per fetched batch into a plain
// MergeTree — and (b) the worker below, each in a consumer group (and (b) a database) of its own; the
// report gives both, their ratio (b)/(a) per round, CPU per 1k samples per process and, from
// system.parts and the part directories, files per part and bytes on disk per sample.
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
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger } from '../services/common/logger.js';
import { type RunningWorker, startWorkerRuntime } from '../services/worker/app.js';
import { applyWorkerSchema } from '../services/worker/clickhouse-schema.js';
import { computeActivity } from '../services/worker/compute.js';
import type { WorkerConfig } from '../services/worker/config.js';
import { type FlushedMessage, flushedChannel, subscribe } from '../services/worker/diagnostics.js';
import { encodeString, RowBinaryWriter } from '../services/worker/rowbinary.js';
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
    'clickhouse-pid-file': {
      type: 'string',
      default: `${process.env.FITSTREAM_DATA_DIR ?? '.data'}/run/clickhouse.pid`,
    },
    // (a) baseline and (b) worker drains, alternating, over the same prefilled topic
    rounds: { type: 'string', default: '2' },
  },
});
const N = Number(values.samples);
const SESSION_S = Number(values['session-s']);
const RATE = Number(values.rate);
const WORKERS = Number(values.workers);
const ROUNDS = Number(values.rounds);
const RUN_DIR = `${process.env.FITSTREAM_DATA_DIR ?? '.data'}/run`;
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

// The flush stats of the worker running now (one at a time in this process), from its tracing point.
let flushesTo: FlushStats[] | null = null;
subscribe<FlushedMessage>(flushedChannel, (m) => flushesTo?.push(m.stats));

if (values.child) {
  // one worker process of a --workers N run: ready → go (startWorker) → stats → close
  const config = JSON.parse(process.env.FITSTREAM_BENCH_WORKER_CONFIG ?? '') as WorkerConfig;
  const next = mailbox((cb) => process.on('message', (m) => cb(m as Msg)));
  const send = (m: Msg) =>
    new Promise<void>((res, rej) => process.send!(m, (err: Error | null) => (err ? rej(err) : res())));
  await send({ type: 'ready' });
  await next('go');
  const flushes: FlushStats[] = [];
  flushesTo = flushes;
  const w = await startWorkerRuntime(config, computeActivity, createLogger('bench-worker', 'warn'));
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
  kafka: procCpuMs(`${RUN_DIR}/kafka.pid`),
  redis: procCpuMs(`${RUN_DIR}/redis.pid`),
  s3: procCpuMs(`${RUN_DIR}/s3.pid`),
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
          manual: null,
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : 0;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0;
};

// the shared broker sometimes answers a fresh topic's metadata with UNKNOWN_TOPIC_OR_PARTITION while
// other tests create and delete topics: try again rather than lose the run
async function isolateRetrying(): Promise<Awaited<ReturnType<typeof isolate>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await isolate({
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
    } catch (err) {
      if (attempt >= 5) throw err;
      console.error(`isolate failed (${(err as Error).message}), attempt ${attempt}; retrying`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
const iso = await isolateRetrying();
const logger = createLogger('bench', 'warn');
let kids: Kid[] = [];
const extraDbs: string[] = [];

/** Active parts of these tables: files per part (listed in the part's directory), bytes on disk per sample. */
async function storage(database: string, tables: string[], samples: number) {
  const parts = await rows<{ table: string; path: string; rows: number; bytes: number }>(
    iso.ch,
    `SELECT table, path, rows, bytes_on_disk AS bytes FROM system.parts
     WHERE database = '${database}' AND active AND table IN (${tables.map((t) => `'${t}'`).join(', ')})`,
  );
  const out: Record<
    string,
    { parts: number; filesPerPart: number | null; rows: number; bytesPerSample: number }
  > = {};
  for (const t of tables) {
    const ps = parts.filter((p) => p.table === t);
    if (ps.length === 0) continue;
    let files = 0;
    let listed = 0;
    for (const p of ps) {
      try {
        files += readdirSync(p.path).length;
        listed++;
      } catch {
        // the server's data directory is not readable from here
      }
    }
    out[t] = {
      parts: ps.length,
      filesPerPart: listed ? Number((files / listed).toFixed(1)) : null,
      rows: ps.reduce((a, p) => a + Number(p.rows), 0),
      bytesPerSample: Number((ps.reduce((a, p) => a + Number(p.bytes), 0) / samples).toFixed(2)),
    };
  }
  return out;
}
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

  // ---- drain: one worker over the prefilled topic, with its own consumer group and database
  const drainWorker = async (cfg: WorkerConfig) => {
    // (for bench/worker-cpuprofile-top.ts --skip-ms: the profile starts with the process)
    console.error(`drain starts ${Math.round(performance.now())} ms after the process started`);
    const flushes: FlushStats[] = [];
    flushesTo = flushes;
    if (SPAWN) kids = await spawnWorkers(WORKERS, cfg);
    const load0 = os.loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const srv0 = serverCpu();
    const kid0 = kids.map((k) => pidCpuMs(k.proc.pid!));
    const start = performance.now();
    let w: RunningWorker | null = null;
    if (SPAWN) {
      for (const k of kids) k.proc.send({ type: 'go' });
    } else {
      w = await startWorkerRuntime(cfg, computeActivity, logger);
    }
    const admin = iso.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(iso.topic);
    const endOf = new Map(ends.map((e) => [e.partition, e.offset]));
    let doneAt = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const committed = await admin.fetchOffsets({ groupId: cfg.WORKER_GROUP_ID, topics: [iso.topic] });
      // a partition that carries no record has end offset 0 and stays uncommitted (-1): done too
      // (with few sessions, e.g. --samples 20000, some of the 12 partitions get none: the drain waited forever)
      const all = committed[0]!.partitions.every(
        (p) => p.offset === endOf.get(p.partition) || endOf.get(p.partition) === '0',
      );
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
    const [acts] = await rows<{ n: number }>(
      iso.ch,
      `SELECT count() AS n FROM ${cfg.CLICKHOUSE_DATABASE}.activities_v`,
    );
    const [smp] = await rows<{ n: number; c: number }>(
      iso.ch,
      `SELECT count() AS n, sum(cleaned) AS c FROM ${cfg.CLICKHOUSE_DATABASE}.samples_v`,
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
    const stored = await storage(cfg.CLICKHOUSE_DATABASE, ['samples', 'activity_streams'], built.samples);
    console.error(JSON.stringify({ ...drain, flushPerSinkMs: undefined, storage: stored }));
    return { drain: { ...drain, storage: stored }, w, admin, flushes, load0, load1, workerProcesses };
  };

  // ---- (a) the bare baseline: kafkajs consume + Avro decode + one RowBinary insert of the raw rows per
  // fetched batch into a plain MergeTree (no dedupe, no archive, no live state, no finalisation): the
  // floor for "every sample lands in ClickHouse", measured in this process like the in-process worker
  const drainBaseline = async (round: number) => {
    const table = `${iso.database}.baseline_${round}`;
    await iso.ch.command({
      query: `CREATE TABLE ${table} (user_id String, device_id String, session_id String, sport String,
        sample_key UInt64, ts Int64, lat Float64, lon Float64, alt Float32, acc Float32, speed Float32,
        dist Float32, hr UInt8, cadence UInt16, power UInt16, present UInt16)
        ENGINE = MergeTree PARTITION BY toYYYYMM(toDate(toDateTime(intDiv(ts, 1000))))
        ORDER BY (user_id, device_id, session_id, sample_key)`,
    });
    const groupId = `${iso.group}-baseline-${round}`;
    const consumer = iso.kafka.consumer({
      groupId,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      maxWaitTimeInMs: 200,
    });
    const admin = iso.kafka.admin();
    await admin.connect();
    const endOf = new Map((await admin.fetchTopicOffsets(iso.topic)).map((e) => [e.partition, e.offset]));
    const load0 = os.loadavg()[0]!;
    const cpu0 = process.cpuUsage();
    const srv0 = serverCpu();
    const start = performance.now();
    let firstAt = 0;
    let inserts = 0;
    await consumer.connect();
    await consumer.subscribe({ topics: [iso.topic], fromBeginning: true });
    const n = (v: number | null | undefined) =>
      v === null || v === undefined || !Number.isFinite(v) ? null : v;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (!firstAt) firstAt = performance.now();
        const w = new RowBinaryWriter(1 << 20);
        for (const m of batch.messages) {
          const d = await iso.codec.decode(m.value);
          if (d.kind !== 'batch') continue;
          const b = d.batch;
          const ident = Buffer.concat([b.userId, b.deviceId, b.sessionId, b.sport].map(encodeString));
          for (const x of b.samples) {
            w.raw(ident);
            w.u64(x.seq ?? x.ts);
            w.u64(x.ts);
            const v = [
              n(x.lat),
              n(x.lon),
              n(x.alt),
              n(x.acc),
              n(x.speed),
              n(x.dist),
              n(x.hr),
              n(x.cadence),
              n(x.power),
            ];
            let present = x.seq === null || x.seq === undefined ? 0 : 1;
            v.forEach((y, i) => {
              if (y !== null) present |= 2 << i;
            });
            w.f64(v[0] ?? 0);
            w.f64(v[1] ?? 0);
            w.f32(v[2] ?? 0);
            w.f32(v[3] ?? 0);
            w.f32(v[4] ?? 0);
            w.f32(v[5] ?? 0);
            w.u8(Math.min(255, Math.max(0, Math.round(v[6] ?? 0))));
            w.u16(Math.min(65535, Math.max(0, Math.round(v[7] ?? 0))));
            w.u16(Math.min(65535, Math.max(0, Math.round(v[8] ?? 0))));
            w.u16(present);
            w.rows++;
          }
        }
        if (w.rows > 0) {
          const r = await iso.ch.exec({ query: `INSERT INTO ${table} FORMAT RowBinary`, values: w.stream() });
          for await (const _ of r.stream) {
            // drain
          }
          inserts++;
        }
        const last = batch.messages.at(-1);
        if (last) {
          resolveOffset(last.offset);
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: String(BigInt(last.offset) + 1n) },
          ]);
        }
        await heartbeat();
      },
    });
    let doneAt = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const committed = await admin.fetchOffsets({ groupId, topics: [iso.topic] });
      if (
        committed[0]!.partitions.every(
          (p) => p.offset === endOf.get(p.partition) || endOf.get(p.partition) === '0',
        )
      ) {
        doneAt = performance.now();
        break;
      }
      if (performance.now() - start > 30 * 60_000) throw new Error('baseline drain did not finish in 30 min');
    }
    const cpu = process.cpuUsage(cpu0);
    const srv1 = serverCpu();
    const load1 = os.loadavg()[0]!;
    await consumer.disconnect();
    await admin.disconnect();
    const seconds = (doneAt - start) / 1000;
    const perK = (a: number | null, b: number | null) =>
      a === null || b === null ? null : Number((((a - b) / built.samples) * 1000).toFixed(2));
    const [c] = await rows<{ n: number }>(iso.ch, `SELECT count() AS n FROM ${table}`);
    const out = {
      seconds: Number(seconds.toFixed(2)),
      samplesPerS: Math.round(built.samples / seconds),
      samplesPerSFromFirstRecord: Math.round(built.samples / ((doneAt - firstAt) / 1000)),
      inserts,
      rows: Number(c!.n),
      workerCpuMsPer1kSamples: Number((((cpu.user + cpu.system) / 1000 / built.samples) * 1000).toFixed(2)),
      serverCpuMsPer1kSamples: {
        clickhouse: perK(srv1.clickhouse, srv0.clickhouse),
        kafka: perK(srv1.kafka, srv0.kafka),
      },
      loadAvg1m: [Number(load0.toFixed(2)), Number(load1.toFixed(2))],
      storage: await storage(iso.database, [`baseline_${round}`], built.samples),
    };
    console.error(JSON.stringify({ baseline: out }));
    return out;
  };

  // ---- rounds: (a) baseline and (b) the worker, alternating, each (b) in a database and group of its own
  const rounds: {
    round: number;
    baseline: Awaited<ReturnType<typeof drainBaseline>>;
    worker: Awaited<ReturnType<typeof drainWorker>>['drain'];
    ratio: number;
  }[] = [];
  let last: Awaited<ReturnType<typeof drainWorker>> | null = null;
  for (let r = 1; r <= ROUNDS; r++) {
    const baseline = await drainBaseline(r);
    if (last) {
      await last.admin.disconnect();
      await last.w?.close();
      await closeWorkers(kids);
      kids = [];
    }
    const db = `${iso.database}_r${r}`;
    await applyWorkerSchema(iso.ch, db);
    extraDbs.push(db);
    last = await drainWorker({
      ...iso.config,
      CLICKHOUSE_DATABASE: db,
      WORKER_GROUP_ID: `${iso.group}-r${r}`,
      WORKER_ARCHIVE_PREFIX: `${iso.prefix}/r${r}`,
    });
    const ratio = Number((last.drain.samplesPerS / baseline.samplesPerS).toFixed(3));
    rounds.push({ round: r, baseline, worker: last.drain, ratio });
    console.error(
      `round ${r}: baseline ${baseline.samplesPerS}/s, worker ${last.drain.samplesPerS}/s, ratio ${ratio}`,
    );
  }
  const { drain, w, admin, flushes, load0, load1, workerProcesses } = last!;

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
    rounds,
    medianRatio: median(rounds.map((r) => r.ratio)),
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
    `| files per part / bytes per sample on disk (active parts after the drain) | ${Object.entries(
      drain.storage,
    )
      .map(
        ([t, v]) =>
          `${t}: ${v.parts} parts, ${v.filesPerPart ?? '?'} files/part, ${v.bytesPerSample} B/sample`,
      )
      .join('; ')} |`,
    ...(lag
      ? [
          `| end-to-end lag at ${lag.rateSamplesPerS} samples/s (p50 / p99 / max) | ${lag.p50Ms} / ${lag.p99Ms} / ${lag.maxMs} ms |`,
        ]
      : []),
    '',
    `## (a) bare baseline vs (b) worker, alternating in this run (${ROUNDS} rounds)`,
    '',
    "(a): kafkajs consume + Avro decode + one RowBinary insert of the raw rows per fetched batch into a plain MergeTree, in this process. (b): the worker with every sink and finalisation, in this process, its own database and consumer group per round. CPU per 1k samples: this process (the bench's polling included), ClickHouse and Kafka from /proc.",
    '',
    '| round | (a) samples/s | (a) CPU ms/1k: bench, ClickHouse, Kafka | (a) files/part, B/sample | (b) samples/s | (b) CPU ms/1k: worker, ClickHouse, Kafka | (b) samples: files/part, B/sample | (b) activity_streams: files/part, B/sample | (b)/(a) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rounds.map((r) => {
      const bs = Object.values(r.baseline.storage)[0];
      const s1 = r.worker.storage.samples;
      const s2 = r.worker.storage.activity_streams;
      return `| ${r.round} | ${r.baseline.samplesPerS} | ${r.baseline.workerCpuMsPer1kSamples}, ${r.baseline.serverCpuMsPer1kSamples.clickhouse}, ${r.baseline.serverCpuMsPer1kSamples.kafka} | ${bs?.filesPerPart ?? '?'}, ${bs?.bytesPerSample ?? '?'} | ${r.worker.samplesPerS} | ${r.worker.workerCpuMsPer1kSamples}, ${r.worker.serverCpuMsPer1kSamples.clickhouse}, ${r.worker.serverCpuMsPer1kSamples.kafka} | ${s1?.filesPerPart ?? '?'}, ${s1?.bytesPerSample ?? '?'} | ${s2 ? `${s2.filesPerPart}, ${s2.bytesPerSample}` : '–'} | ${r.ratio} |`;
    }),
    '',
    `Median (b)/(a): ${median(rounds.map((r) => r.ratio))}`,
    '',
  ].join('\n');
  writeFileSync(`${values.out}.md`, md);
  console.log(md);
} finally {
  for (const k of kids) if (!k.exited) k.proc.kill('SIGKILL');
  for (const db of extraDbs) await iso.ch.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => {});
  await iso.cleanup();
}
