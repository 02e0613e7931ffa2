// A whole load run: private names on the shared stack, the services as processes, the generator in
// worker threads, a monitor sampling every process and the pipeline's lag and latency, the reconciliation,
// and the baselines. bench/load/main.ts is the command line; bench/load/load.int.test.ts the smoke run.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import mqtt from 'mqtt';
import pg from 'pg';
import { activityIdFor } from '../../pipelines/compute-activity.js';
import { liveKeys } from '../../schemas/live-keys.js';
import { decodeConfluent } from '../../schemas/wire.js';
import { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';
import { createFleet, type DeviceFleet } from '../loadgen/devices.js';
import type { GeneratorCounters, GeneratorInput, GeneratorMessage, WorkoutLedger } from './generator.js';
import { COUNTER_KEYS, countersOver, runGenerator } from './generator.js';
import { DEFAULT_FAULTS, type FaultRates, planWorkout } from './plan.js';
import { readProc, readProcTree, stackPids } from './procstat.js';
import { activityCount, newestStored, type Reconciliation, reconcile, samplesStorage } from './reconcile.js';
import {
  bridgeUrl,
  gatewayClientId,
  type RunNames,
  type Service,
  startApi,
  startBareAedes,
  startEngagement,
  startGateway,
  startWorker,
} from './stack.js';

export interface LoadOptions {
  workouts: number;
  minutes: number;
  rampS: number;
  format: 'json' | 'avro';
  perMessage: number;
  /** devices per MQTT connection; > 1 runs the gateways in bridge mode (connections.ts) */
  mux: number;
  seed: number;
  /** generator worker threads; 0 = in this thread (tests) */
  threads: number;
  gateways: number;
  workers: number;
  /** bridge mode through the local Mosquitto even with one gateway and mux 1 */
  bridge: boolean;
  /** also run api and engagement (their CPU and memory under the load) */
  allServices: boolean;
  /** seconds of the same load against a bare aedes broker after the run; 0 = none */
  baselineS: number;
  /** workouts without faults whose latency is measured */
  tracers: number;
  faults: FaultRates;
  /** seconds to wait after the generator for the pipeline to catch up */
  settleS: number;
  /** seconds past the planned end (ramp + duration) after which the generator stops sending */
  graceS: number;
  /** the workers' WORKER_SESSION_TIMEOUT_S (their default, 600, unless told) */
  sessionTimeoutS: number;
  /** the workers' WORKER_FINALISE_MEMORY_MB; 0 = sized from the load (finaliseMemoryFor) */
  finaliseMemoryMb: number;
  tickMs: number;
  dataDir: string;
  logDir: string;
  progress: (line: string) => void;
  /** keep the run's topics and ClickHouse database */
  keep: boolean;
}

export const defaultLoadOptions = (o: Partial<LoadOptions> = {}): LoadOptions => ({
  workouts: 100,
  minutes: 1,
  rampS: 10,
  format: 'json',
  perMessage: 1,
  mux: 1,
  seed: 1,
  threads: 1,
  gateways: 1,
  workers: 1,
  bridge: false,
  allServices: true,
  baselineS: 0,
  tracers: 100,
  faults: DEFAULT_FAULTS,
  settleS: 120,
  graceS: 60,
  sessionTimeoutS: 600,
  finaliseMemoryMb: 0,
  tickMs: 2000,
  dataDir: process.env.FITSTREAM_DATA_DIR ?? '.data',
  logDir: os.tmpdir(),
  progress: (l) => process.stderr.write(`${l}\n`),
  keep: false,
  ...o,
});

/**
 * MiB of session images each worker needs so that no session of the run is read back at finalisation:
 * every workout's samples at 55 bytes, a quarter of spare capacity (session-images.ts), split over the
 * workers, and 64 MiB of headroom; never below the worker's default of 256.
 */
export function finaliseMemoryFor(workouts: number, durationS: number, workers: number): number {
  const bytes = (workouts * durationS * 55 * 1.25) / Math.max(1, workers);
  return Math.max(256, Math.ceil(bytes / 1048576) + 64);
}

/** Each worker's fitstream_worker_finalise_inputs_total by source, summed: how finalisation got its input. */
async function finaliseInputs(workers: Service[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const w of workers) {
    const text = await (await fetch(`${w.opsUrl}/metrics`)).text();
    for (const [source, n] of Object.entries(finaliseInputsIn(text))) out[source] = (out[source] ?? 0) + n;
  }
  return out;
}

/** fitstream_worker_finalise_inputs_total by source in one Prometheus text exposition (any other labels) */
export function finaliseInputsIn(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^fitstream_worker_finalise_inputs_total\{([^}]*)\} (\S+)$/gm)) {
    const source = /(?:^|,)source="(\w+)"/.exec(m[1]!)?.[1];
    if (source) out[source] = (out[source] ?? 0) + Number(m[2]);
  }
  return out;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const s = Float64Array.from(values).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1]! };
}

export interface SeriesPoint {
  /** s since the run's start */
  t: number;
  phase: 'ramp-up' | 'steady' | 'ramp-down' | 'settle';
  sentPerS: number;
  ackedPerS: number;
  storedPerS: number;
  lag: number;
  sockets: number;
  errors: number;
  /** the machine's 1-minute load average (runnable threads; this box has 2 cores) */
  load1: number;
  ch: Percentiles;
  live: Percentiles;
  /** CPU % of one core per process over the tick */
  cpu: Record<string, number>;
  rssMiB: Record<string, number>;
}

export interface LoadResult {
  runId: string;
  options: Omit<LoadOptions, 'progress'>;
  userId: string;
  startedAt: string;
  elapsedS: number;
  generator: GeneratorCounters;
  /** MQTT sockets the generator held at once */
  maxSockets: number;
  steady: {
    fromS: number;
    toS: number;
    sentPerS: number;
    ackedPerS: number;
    storedPerS: number;
    /** lag at the end minus lag at the start of steady state, per minute */
    lagGrowthPerMin: number;
    maxLag: number;
    /** mean and max 1-minute load average over the steady state */
    load1: { mean: number; max: number };
    /** CPU seconds per second, per process */
    cpu: Record<string, number>;
    maxRssMiB: Record<string, number>;
  };
  latency: { deviceToClickhouseMs: Percentiles; deviceToLiveMs: Percentiles };
  /** CPU ms per 1k messages (gateways) and per 1k samples (workers), steady state */
  costs: { gatewayCpuMsPer1kMessages: number; workerCpuMsPer1kSamples: number };
  dlq: Record<string, number>;
  /** finalised sessions by where their input came from (memory: the worker's image; clickhouse: read back) */
  finaliseInputs: Record<string, number>;
  /** the run's samples table at the end: active parts' rows and compressed bytes */
  storage: { rows: number; bytes: number; bytesPerSample: number };
  reconciliation: Reconciliation;
  baselines: { bareAedes?: BareAedesBaseline };
  series: SeriesPoint[];
  failures: string[];
  /** the first errors the workouts met (connect refused, a message rejected) */
  workoutErrors: string[];
}

export interface BareAedesBaseline {
  seconds: number;
  messagesPerS: number;
  brokerCpuMsPer1kMessages: number;
  /** the gateway's figure from the run / the bare broker's */
  gatewayCostRatio: number;
}

/** the shared sum of every thread's counters */
function sumCounters(list: GeneratorCounters[]): GeneratorCounters {
  const out = { ...list[0]! };
  for (const k of Object.keys(out) as (keyof GeneratorCounters)[])
    out[k] = list.reduce((s, c) => s + c[k], 0);
  return out;
}

interface GeneratorHandle {
  counters: GeneratorCounters[];
  done: Promise<WorkoutLedger[]>;
}

/** Runs the planned workouts over `threads` worker threads (or this thread for 0). */
function launchGenerator(
  base: Omit<GeneratorInput, 'threadIndex' | 'workouts' | 'shared'>,
  all: GeneratorInput['workouts'],
  threads: number,
): GeneratorHandle {
  const n = Math.max(1, threads);
  const shared = Array.from({ length: n }, () => new SharedArrayBuffer(COUNTER_KEYS.length * 8));
  const counters = shared.map((b) => countersOver(new Float64Array(b)));
  const parts = Array.from({ length: n }, (_, t) => all.filter((_, i) => i % n === t));
  const runs = parts.map(
    (workouts, t) =>
      new Promise<WorkoutLedger[]>((resolve, reject) => {
        const input: GeneratorInput = { ...base, threadIndex: t, workouts, shared: shared[t] };
        const onMessage = (m: GeneratorMessage) => {
          if (m.type === 'done') resolve(m.ledger);
        };
        if (threads === 0) {
          runGenerator(input, onMessage).catch(reject);
          return;
        }
        const w = new Worker(new URL('./generator.ts', import.meta.url), {
          workerData: { generator: input },
          execArgv: ['--import', 'tsx'],
        });
        w.on('message', onMessage);
        w.on('error', reject);
        w.on('exit', (code) => {
          if (code !== 0) reject(new Error(`generator thread ${t} exited with ${code}`));
        });
      }),
  );
  return { counters, done: Promise.all(runs).then((l) => l.flat()) };
}

async function createTopics(admin: Admin, n: RunNames): Promise<void> {
  for (const [topic, numPartitions] of [
    [n.samples, 12],
    [n.dlq, 1],
    [n.activities, 3],
    [n.goals, 1],
  ] as const) {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic, numPartitions, replicationFactor: 1 }],
    });
  }
  // kafkajs' waitForLeaders retries only LEADER_NOT_AVAILABLE; a busy broker also answers a fresh topic's
  // metadata with UNKNOWN_TOPIC_OR_PARTITION for a while: wait until every partition has a leader
  const topics = [n.samples, n.dlq, n.activities, n.goals];
  const t0 = Date.now();
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics });
      if (md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() - t0 > 60_000) throw err;
    }
    if (Date.now() - t0 > 60_000) throw new Error(`topics ${topics.join(', ')} have no leaders after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function consumerLag(admin: Admin, group: string, topic: string): Promise<number> {
  const [high, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const c = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const p of high) {
    const done = c.get(p.partition) ?? -1;
    lag += Number(p.high) - (done < 0 ? Number(p.low) : done);
  }
  return lag;
}

/** Counts the DLQ topic's records by reason, reading it to its end. */
async function dlqByReason(
  kafka: Kafka,
  topic: string,
  registryUrl: string,
): Promise<Record<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((s, p) => s + Number(p.high) - Number(p.low), 0);
  const out: Record<string, number> = {};
  if (total === 0) return out;
  const registry = new SchemaRegistry({ host: registryUrl });
  const consumer = kafka.consumer({ groupId: `load-dlq-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen++;
        try {
          const d = await decodeConfluent(registry, message.value as Buffer);
          const reason = (d.value as { reasonCode?: string }).reasonCode ?? d.name;
          out[reason] = (out[reason] ?? 0) + 1;
        } catch {
          out.undecodable = (out.undecodable ?? 0) + 1;
        }
        if (seen >= total) {
          clearTimeout(t);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

const fmtK = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));
const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const runId = randomUUID().slice(0, 8);
  const n: RunNames = {
    runId,
    samples: `load.samples.${runId}`,
    dlq: `load.dlq.${runId}`,
    activities: `load.activities.${runId}`,
    goals: `load.goals.${runId}`,
    database: `load_${runId}`,
    prefix: `load/${runId}`,
  };
  const bridge = o.bridge || o.mux > 1 || o.gateways > 1;
  const failures: string[] = [];
  const kafka = new Kafka({
    clientId: `load-${runId}`,
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ch: ClickHouseClient = createClient({
    url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream',
    max: 2,
  });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  const services: Service[] = [];
  let fleet: DeviceFleet | null = null;
  const logDir = `${o.logDir}/load-${runId}`;
  try {
    await createTopics(admin, n);
    await applyWorkerSchema(ch, n.database);
    fleet = await createFleet(pool, o.workouts, `load-${runId}`);
    const userId = fleet.userId;
    const durationS = Math.max(1, Math.round(o.minutes * 60));
    const finaliseMb = o.finaliseMemoryMb || finaliseMemoryFor(o.workouts, durationS, o.workers);
    // started together: each spends seconds loading modules and connecting
    const started = await Promise.allSettled([
      ...Array.from({ length: o.workers }, (_, i) =>
        startWorker(n, i, logDir, o.sessionTimeoutS, finaliseMb),
      ),
      ...Array.from({ length: o.gateways }, (_, i) =>
        startGateway(n, i, bridge ? 'bridge' : 'embedded', logDir),
      ),
    ]);
    for (const r of started) if (r.status === 'fulfilled') services.push(r.value);
    const broken = started.find((r) => r.status === 'rejected');
    if (broken) throw (broken as PromiseRejectedResult).reason;
    const gateways = services.filter((s) => s.name.startsWith('gateway'));
    if (o.allServices) {
      const extra = await Promise.allSettled([startEngagement(n, logDir), startApi(n, logDir)]);
      for (const r of extra) {
        if (r.status === 'fulfilled') services.push(r.value);
        else failures.push(`api/engagement: ${(r.reason as Error).message}`);
      }
    }
    const url = bridge ? bridgeUrl() : gateways[0]!.mqttUrl!;

    const plans = Array.from({ length: o.workouts }, (_, i) =>
      planWorkout(
        {
          workouts: o.workouts,
          durationS,
          rampS: o.rampS,
          seed: o.seed,
          faults: o.faults,
          tracers: o.tracers,
        },
        i,
      ),
    );
    const workouts = plans.map((plan, i) => ({
      plan,
      deviceId: fleet!.devices[i]!.deviceId,
      token: fleet!.devices[i]!.token,
      sessionId: `${runId}-${i}`,
    }));
    const tracers = workouts.filter((w) => w.plan.tracer);
    const tracerT0 = new Map<string, number>();

    // device -> live state: the worker publishes each tracer's snapshot (device ts of its newest sample)
    let liveWindow: number[] = [];
    const liveAll: number[] = [];
    await redis.connect();
    const channelOf = new Map(
      tracers.map((w) => [
        liveKeys.sessionChannel(activityIdFor(userId, w.deviceId, w.sessionId)),
        w.sessionId,
      ]),
    );
    if (channelOf.size > 0) await redis.subscribe(...channelOf.keys());
    redis.on('message', (_channel: string, message: string) => {
      try {
        const s = JSON.parse(message) as { ts: number; status: string };
        if (s.status === 'ended' || !s.ts) return;
        const l = Date.now() - s.ts;
        liveWindow.push(l);
        liveAll.push(l);
      } catch {}
    });

    const runStart = Date.now() + 2000;
    for (const w of tracers) tracerT0.set(w.sessionId, runStart + w.plan.startOffsetMs);
    const startedAt = new Date(runStart).toISOString();
    const gen = launchGenerator(
      {
        runId,
        runStart,
        stopAt: runStart + (o.rampS + durationS + o.graceS) * 1000,
        url,
        protocolVersion: bridge ? 5 : 4,
        anonymous: bridge,
        format: o.format,
        perMessage: o.perMessage,
        mux: o.mux,
        faults: o.faults,
      },
      workouts,
      o.threads,
    );
    let ledger: WorkoutLedger[] | null = null;
    gen.done.then(
      (l) => {
        ledger = l;
      },
      (err) => failures.push(`generator: ${(err as Error).message}`),
    );

    // device -> ClickHouse row: the tracers' newest stored device time, polled; a sample's latency is the
    // poll's time minus its send time (= the device time of the last sample of its message), so it is an
    // upper bound within the poll period (500 ms)
    let chWindow: number[] = [];
    const chAll: number[] = [];
    const newest = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = Date.now();
        try {
          const got = await newestStored(ch, n.database, userId, tracers);
          const now = Date.now();
          for (const [s, ts] of got) {
            const prev = newest.get(s) ?? -1;
            if (ts <= prev) continue;
            newest.set(s, ts);
            const t0 = tracerT0.get(s)!;
            // each newly visible sample: its message was sent at the device time of the message's last seq
            const K = o.perMessage;
            const from = prev < 0 ? 0 : Math.round((prev - t0) / 1000) + 1;
            const to = Math.round((ts - t0) / 1000);
            for (let seq = from; seq <= to; seq++) {
              const sentSeq = Math.min(to, Math.floor(seq / K) * K + K - 1);
              const l = now - (t0 + sentSeq * 1000);
              chWindow.push(l);
              chAll.push(l);
            }
          }
        } catch (err) {
          failures.push(`latency poll: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 500 - (Date.now() - t))));
      }
    })();

    const pids = stackPids(o.dataDir);
    const procs = (): Record<string, number> => {
      const out: Record<string, number> = { generator: process.pid, ...pids };
      for (const s of services) out[s.name] = s.pid;
      return out;
    };
    const lastCpu = new Map<string, number>();
    let lastT = Date.now();
    let last = { sent: 0, acked: 0, stored: 0 };
    const series: SeriesPoint[] = [];
    const steadyFrom = o.rampS;
    const steadyTo = durationS;
    const phaseAt = (t: number): SeriesPoint['phase'] =>
      ledger ? 'settle' : t < steadyFrom ? 'ramp-up' : t <= steadyTo ? 'steady' : 'ramp-down';
    const group = `load-${runId}`;

    const tick = async (print = true): Promise<SeriesPoint> => {
      const now = Date.now();
      const dt = Math.max(0.001, (now - lastT) / 1000);
      lastT = now;
      const c = sumCounters(gen.counters);
      let stored = last.stored;
      let lag = 0;
      try {
        // the rows of the active parts of the run's own database: count() WHERE user_id read the whole
        // user_id column every tick (one athlete owns every row of the run), a cost growing with the table
        stored = (await samplesStorage(ch, n.database)).rows;
      } catch (err) {
        failures.push(`stored count: ${(err as Error).message}`);
      }
      try {
        lag = await consumerLag(admin, group, n.samples);
      } catch {}
      const cpu: Record<string, number> = {};
      const rssMiB: Record<string, number> = {};
      for (const [name, pid] of Object.entries(procs())) {
        const s = name === 'postgres' ? readProcTree(pid) : readProc(pid);
        if (!s) continue;
        const prev = lastCpu.get(name);
        lastCpu.set(name, s.cpuS);
        if (prev !== undefined) cpu[name] = Math.round(((s.cpuS - prev) / dt) * 1000) / 10;
        rssMiB[name] = Math.round(s.rssBytes / 1048576);
      }
      const p: SeriesPoint = {
        t: Math.round((now - runStart) / 100) / 10,
        phase: phaseAt((now - runStart) / 1000),
        sentPerS: Math.round((c.samplesSent - last.sent) / dt),
        ackedPerS: Math.round((c.samplesAcked - last.acked) / dt),
        // rows before merges: a replacing merge that removes duplicates makes the count drop
        storedPerS: Math.max(0, Math.round((stored - last.stored) / dt)),
        lag,
        sockets: c.sockets,
        errors: c.errors + c.connectErrors,
        load1: Math.round(os.loadavg()[0]! * 10) / 10,
        ch: percentiles(chWindow),
        live: percentiles(liveWindow),
        cpu,
        rssMiB,
      };
      chWindow = [];
      liveWindow = [];
      last = { sent: c.samplesSent, acked: c.samplesAcked, stored };
      const top = Object.entries(cpu)
        .filter(([, v]) => v >= 1)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(0)}%`)
        .join(' ');
      if (print)
        o.progress(
          `[${p.t.toFixed(0)}s ${p.phase}] sent ${fmtK(p.sentPerS)}/s acked ${fmtK(p.ackedPerS)}/s stored ${fmtK(p.storedPerS)}/s ` +
            `lag ${fmtK(lag)} load ${p.load1} p99 ch ${fmtS(p.ch.p99)} live ${fmtS(p.live.p99)} sockets ${c.sockets} errors ${p.errors} | cpu ${top}`,
        );
      return p;
    };
    // the first tick only sets the CPU counters' starting points
    await tick(false);
    // run until the generator is done, then until the pipeline caught up (or settleS passed)
    let settleStart = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, o.tickMs));
      series.push(await tick());
      if (failures.some((f) => f.startsWith('generator:'))) break;
      if (!ledger) continue;
      settleStart ||= Date.now();
      const finished = (ledger as WorkoutLedger[]).filter((w) => w.finished).length;
      const lagNow = series[series.length - 1]!.lag;
      const acts = await activityCount(ch, n.database, userId).catch(() => -1);
      if (lagNow === 0 && acts >= finished) break;
      if (Date.now() - settleStart > o.settleS * 1000) {
        failures.push(`not settled after ${o.settleS} s: lag ${lagNow}, activities ${acts}/${finished}`);
        break;
      }
    }
    polling = false;
    await poller;
    const elapsedS = (Date.now() - runStart) / 1000;
    const finalLedger: WorkoutLedger[] = ledger ?? [];
    const counters = sumCounters(gen.counters);
    const reconciliation = await reconcile(ch, n.database, userId, finalLedger, 1);
    const st0 = await samplesStorage(ch, n.database).catch(() => ({ rows: 0, bytes: 0 }));
    const storage = {
      ...st0,
      bytesPerSample: reconciliation.expectedSamples
        ? Math.round((st0.bytes / reconciliation.expectedSamples) * 10) / 10
        : 0,
    };
    const finalised = await finaliseInputs(services.filter((s) => s.name.startsWith('worker'))).catch(
      (err) => {
        failures.push(`worker metrics: ${(err as Error).message}`);
        return {};
      },
    );
    const dlq = await dlqByReason(
      kafka,
      n.dlq,
      process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081',
    ).catch((err) => {
      failures.push(`dlq: ${(err as Error).message}`);
      return {};
    });

    // steady state: between the end of the ramp-up and the start of the ramp-down
    const st = series.filter((p) => p.phase === 'steady');
    const mean = (f: (p: SeriesPoint) => number) =>
      st.length ? st.reduce((s, p) => s + f(p), 0) / st.length : 0;
    const cpuSteady: Record<string, number> = {};
    const maxRss: Record<string, number> = {};
    for (const p of series)
      for (const [k, v] of Object.entries(p.rssMiB)) maxRss[k] = Math.max(maxRss[k] ?? 0, v);
    for (const p of st)
      for (const [k, v] of Object.entries(p.cpu)) cpuSteady[k] = (cpuSteady[k] ?? 0) + v / 100 / st.length;
    const sum = (prefix: string) =>
      Object.entries(cpuSteady)
        .filter(([k]) => k.startsWith(prefix))
        .reduce((s, [, v]) => s + v, 0);
    const ackedPerS = mean((p) => p.ackedPerS);
    const storedPerS = mean((p) => p.storedPerS);
    const msgsPerS = ackedPerS / o.perMessage;
    const lagGrowthPerMin =
      st.length >= 2
        ? ((st[st.length - 1]!.lag - st[0]!.lag) / Math.max(1, st[st.length - 1]!.t - st[0]!.t)) * 60
        : 0;

    const result: LoadResult = {
      runId,
      options: { ...o, progress: undefined } as unknown as LoadResult['options'],
      userId,
      startedAt,
      elapsedS,
      generator: counters,
      maxSockets: Math.max(counters.maxSockets, ...gen.counters.map((c) => c.maxSockets)),
      steady: {
        fromS: st[0]?.t ?? 0,
        toS: st[st.length - 1]?.t ?? 0,
        sentPerS: mean((p) => p.sentPerS),
        ackedPerS,
        storedPerS,
        lagGrowthPerMin,
        maxLag: Math.max(0, ...series.map((p) => p.lag)),
        load1: {
          mean: Math.round(mean((p) => p.load1) * 10) / 10,
          max: Math.max(0, ...st.map((p) => p.load1)),
        },
        cpu: cpuSteady,
        maxRssMiB: maxRss,
      },
      latency: { deviceToClickhouseMs: percentiles(chAll), deviceToLiveMs: percentiles(liveAll) },
      costs: {
        gatewayCpuMsPer1kMessages: msgsPerS > 0 ? (sum('gateway') * 1000 * 1000) / msgsPerS : 0,
        workerCpuMsPer1kSamples: storedPerS > 0 ? (sum('worker') * 1000 * 1000) / storedPerS : 0,
      },
      dlq,
      finaliseInputs: finalised,
      storage,
      reconciliation,
      baselines: {},
      series,
      failures,
      workoutErrors: finalLedger.flatMap((w) => (w.error ? [`${w.sessionId}: ${w.error}`] : [])).slice(0, 20),
    };
    // the tracers' maxSockets sum is per thread; the sum over threads is what the box held
    result.maxSockets = gen.counters.reduce((s, c) => s + c.maxSockets, 0);

    if (o.baselineS > 0) {
      for (const s of services.splice(0)) await s.stop();
      result.baselines.bareAedes = await bareAedesBaseline(
        o,
        runId,
        workouts,
        logDir,
        result.costs.gatewayCpuMsPer1kMessages,
      );
    }
    return result;
  } finally {
    for (const s of services) await s.stop().catch(() => {});
    if (bridge) await endBridgeSessions(runId, o.gateways);
    redis.disconnect();
    if (!o.keep) {
      await admin.deleteTopics({ topics: [n.samples, n.dlq, n.activities, n.goals] }).catch(() => {});
      await ch.command({ query: `DROP DATABASE IF EXISTS ${n.database}` }).catch(() => {});
      await fleet?.drop().catch(() => {});
    }
    await admin.disconnect().catch(() => {});
    await ch.close();
    await pool.end();
  }
}

/**
 * The same workouts (same plan, the first `baselineS` seconds of each, same ramp) against a bare aedes
 * broker: what the gateway's CPU per message compares with.
 */
async function bareAedesBaseline(
  o: LoadOptions,
  runId: string,
  workouts: GeneratorInput['workouts'],
  logDir: string,
  gatewayCost: number,
): Promise<BareAedesBaseline> {
  const aedes = await startBareAedes(logDir);
  try {
    const durationS = o.baselineS;
    // a quarter of the phase to ramp up, the middle half measured
    const ramp = Math.min(o.rampS, durationS / 4);
    const plans = workouts.map((w, i) => ({
      ...w,
      plan: planWorkout(
        { workouts: o.workouts, durationS, rampS: ramp, seed: o.seed, faults: o.faults, tracers: o.tracers },
        i,
      ),
      sessionId: `${runId}-base-${i}`,
    }));
    const runStart = Date.now() + 1000;
    const gen = launchGenerator(
      {
        runId: `${runId}b`,
        runStart,
        stopAt: runStart + (ramp + durationS + 30) * 1000,
        url: aedes.mqttUrl!,
        protocolVersion: 4,
        anonymous: false,
        format: o.format,
        perMessage: o.perMessage,
        mux: 1,
        faults: o.faults,
      },
      plans,
      o.threads,
    );
    // measure over the steady part only
    await new Promise((r) => setTimeout(r, runStart - Date.now() + ramp * 1000));
    const c0 = sumCounters(gen.counters).messagesAcked;
    const p0 = readProc(aedes.pid)!.cpuS;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, Math.max(1, durationS - 2 * ramp) * 1000));
    const c1 = sumCounters(gen.counters).messagesAcked;
    const p1 = readProc(aedes.pid)!.cpuS;
    const s = (Date.now() - t0) / 1000;
    await gen.done;
    const mps = (c1 - c0) / s;
    const cost = mps > 0 ? ((p1 - p0) / s / mps) * 1000 * 1000 : 0;
    return {
      seconds: s,
      messagesPerS: mps,
      brokerCpuMsPer1kMessages: cost,
      gatewayCostRatio: cost > 0 ? gatewayCost / cost : 0,
    };
  } finally {
    await aedes.stop();
  }
}

/**
 * Ends the stopped gateways' sessions on the external broker. They are persistent (clean start off, 1 h
 * expiry: a restarted gateway gets what it missed), so after a run whose gateways fell behind, Mosquitto
 * kept queuing for them: 2.2 GB in mosquitto.db, and 94 % of a core with no client connected, well into the
 * next run. A connect with clean start under each gateway's client id drops the session and its queue.
 */
async function endBridgeSessions(runId: string, gateways: number): Promise<void> {
  for (let i = 0; i < gateways; i++) {
    try {
      const c = await mqtt.connectAsync(bridgeUrl(), {
        protocolVersion: 5,
        clientId: gatewayClientId(runId, i),
        clean: true,
        reconnectPeriod: 0,
        properties: { sessionExpiryInterval: 0 },
      });
      await c.endAsync();
    } catch (err) {
      console.error(`bridge session of gateway ${i} not ended: ${(err as Error).message}`);
    }
  }
}
