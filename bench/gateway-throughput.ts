// Gateway benchmark (not a test): throughput (samples/s, messages/s), publish->PUBACK latency and memory
// per connected device, through the embedded broker into a real Kafka (acks=all, idempotent).
//
//   node --expose-gc --import tsx bench/gateway-throughput.ts \
//     [--connections 1000,10000] [--duration 15] [--inflight 2] [--formats json,avro] [--window 10]
//     [--rates 2000,5000]   (open-loop runs for latency at a given load, after the closed-loop maximum)
//     [--kafka fake:15]     (no Kafka: every produce call is acknowledged after 15 ms, so the figures are
//                            the gateway's own CPU and ceiling, without kafkajs and the broker's share)
//     [--max false]         (skip the closed-loop run: CPU per message at a fixed rate compares builds
//                            better than the maximum, whose batch sizes move with the machine's load)
//
// The gateway runs in this process (as it would in production: one process, its own core); the load runs
// in a child process speaking raw MQTT (bench/gateway-load-worker.ts). Records go to a private topic with
// the same partition count as telemetry.samples.v1 (12), deleted afterwards. Results:
// bench/results/gateway-throughput.{json,md}.
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import { registerSchemas } from '../schemas/registry.js';
import { createLogger } from '../services/common/logger.js';
import { parseGatewayConfig } from '../services/gateway/config.js';
import { startGateway } from '../services/gateway/gateway.js';
import { connectKafkaProducer } from '../services/gateway/producer-kafka.js';
import { createFleet } from './loadgen/devices.js';

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000,10000' },
    duration: { type: 'string', default: '15' },
    inflight: { type: 'string', default: '2' },
    formats: { type: 'string', default: 'json,avro' },
    window: { type: 'string', default: '10' },
    samples: { type: 'string', default: '10' },
    /** open-loop rates (messages/s over all connections) to measure latency at, after the closed-loop run */
    rates: { type: 'string', default: '2000,5000' },
    /** 'real', or 'fake:{ms}': produce calls acknowledged after ms without Kafka (gateway-only CPU) */
    kafka: { type: 'string', default: 'real' },
    /** 'false': open-loop rates only */
    max: { type: 'string', default: 'true' },
    out: { type: 'string', default: 'bench/results/gateway-throughput' },
  },
});
const connectionCounts = args.connections.split(',').map(Number);
const durationS = Number(args.duration);
const inflight = Number(args.inflight);
const formats = args.formats.split(',') as Array<'json' | 'avro'>;
const samplesPerMessage = Number(args.samples);
const rates = args.rates ? args.rates.split(',').map(Number) : [];

const KAFKA = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
// The local stack's broker (infra/local): its CPU per run shows whether Kafka or the gateway is the limit.
const KAFKA_PID_FILE = new URL('../.data/run/kafka.pid', import.meta.url);
const CLOCK_TICKS = 100; // USER_HZ on Linux
/** CPU seconds (user + system) of the local Kafka broker so far; null when it is not ours to see. */
function kafkaCpuS(): number | null {
  try {
    const pid = readFileSync(KAFKA_PID_FILE, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with node --expose-gc for stable memory figures');

async function settle(): Promise<{ rss: number; heap: number; external: number }> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
}

const logger = createLogger('gateway', 'warn');
const kafka = new Kafka({ clientId: 'gw-bench', brokers: KAFKA.split(','), logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const id = randomUUID().slice(0, 8);
const topicSamples = `bench.gw.samples.${id}`;
const topicDlq = `bench.gw.dlq.${id}`;
await admin.createTopics({
  waitForLeaders: true,
  topics: [
    { topic: topicSamples, numPartitions: 12, replicationFactor: 1 },
    { topic: topicDlq, numPartitions: 1, replicationFactor: 1 },
  ],
});

const config = parseGatewayConfig({
  LOG_LEVEL: 'warn',
  GATEWAY_HOST: '127.0.0.1',
  MQTT_PORT: '0',
  MQTT_WS_PORT: '0',
  TOPIC_SAMPLES: topicSamples,
  TOPIC_DLQ: topicDlq,
  BATCH_WINDOW_MS: args.window,
  TOKEN_CACHE_TTL_MS: '60000',
});
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 8 });
const redis = new Redis(config.REDIS_URL);
const schemaIds = await registerSchemas(new SchemaRegistry({ host: config.SCHEMA_REGISTRY_URL }));
const producer = await connectKafkaProducer({
  brokers: config.KAFKA_BROKERS,
  clientId: 'gw-bench',
  requestTimeoutMs: config.KAFKA_REQUEST_TIMEOUT_MS,
  logger,
});
const fakeKafkaMs = args.kafka.startsWith('fake:') ? Number(args.kafka.slice(5)) : null;
const send: typeof producer.send =
  fakeKafkaMs === null ? producer.send : () => new Promise((r) => setTimeout(r, fakeKafkaMs));
const registry = new Registry();
const gateway = await startGateway(config, {
  pg: pool,
  redis,
  redisSub: null,
  schemaIds,
  send,
  registry,
  logger,
});
const port = gateway.broker!.port;

const worker = fork(new URL('./gateway-load-worker.ts', import.meta.url), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const inbox: Array<Record<string, unknown>> = [];
let wake: (() => void) | null = null;
worker.on('message', (m: Record<string, unknown>) => {
  inbox.push(m);
  wake?.();
});
async function next(type: string): Promise<Record<string, unknown>> {
  for (;;) {
    const i = inbox.findIndex((m) => m.type === type);
    if (i >= 0) return inbox.splice(i, 1)[0]!;
    await new Promise<void>((r) => {
      wake = r;
    });
  }
}
await next('ready');

const counter = async (name: string) =>
  ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);

interface Row {
  connections: number;
  connectMs: number;
  failedConnects: number;
  idleRssPerConnKB: number;
  idleHeapPerConnKB: number;
  runs: Array<{
    format: string;
    mode: string;
    gatewayCpuUsPerMsg: number;
    gatewayCores: number;
    loadAvg: number;
    loadGenCores: number;
    /** CPU of the local Kafka broker during the run, in cores (null: not measured) */
    kafkaCores: number | null;
    dlq: number;
    msgsPerS: number;
    samplesPerS: number;
    payloadMBPerS: number;
    latencyMs: Record<string, number>;
    acked: number;
  }>;
}
const rows: Row[] = [];
for (const n of connectionCounts) {
  const fleet = await createFleet(pool, n, 'gwbench');
  const before = await settle();
  worker.send({ cmd: 'connect', host: '127.0.0.1', port, devices: fleet.devices, parallel: 200 });
  const c = (await next('connected')) as { connected: number; failed: number; ms: number };
  await new Promise((r) => setTimeout(r, 1000));
  const after = await settle();
  const row: Row = {
    connections: c.connected,
    connectMs: Math.round(c.ms),
    failedConnects: c.failed,
    idleRssPerConnKB: +((after.rss - before.rss) / c.connected / 1024).toFixed(1),
    idleHeapPerConnKB: +((after.heap - before.heap) / c.connected / 1024).toFixed(1),
    runs: [],
  };
  console.log(
    `${n} connections: connected ${c.connected} (failed ${c.failed}) in ${row.connectMs} ms; idle RSS ${row.idleRssPerConnKB} KB/conn, heap ${row.idleHeapPerConnKB} KB/conn`,
  );
  const offered = args.max === 'false' ? rates : [0, ...rates];
  const plan = formats.flatMap((format) => offered.map((rate) => ({ format, rate })));
  for (const { format, rate } of plan) {
    const dlqBefore = await counter('fitstream_gateway_dlq_messages_total');
    const cpu0 = process.cpuUsage();
    const kafka0 = fakeKafkaMs === null ? kafkaCpuS() : null;
    worker.send({ cmd: 'load', format, durationS, inflight, samplesPerMessage, rate });
    const r = (await next('load')) as {
      acked: number;
      elapsedS: number;
      payloadBytes: number;
      latencyMs: Record<string, number>;
      loadCores: number;
    };
    const cpu = process.cpuUsage(cpu0);
    const kafka1 = kafka0 === null ? null : kafkaCpuS();
    const dlq = (await counter('fitstream_gateway_dlq_messages_total')) - dlqBefore;
    const msgsPerS = Math.round(r.acked / r.elapsedS);
    const run = {
      format,
      mode: rate === 0 ? 'max' : `${rate}/s`,
      msgsPerS,
      samplesPerS: msgsPerS * samplesPerMessage,
      payloadMBPerS: +(r.payloadBytes / r.elapsedS / 1e6).toFixed(2),
      latencyMs: Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [k, +v.toFixed(1)])),
      acked: r.acked,
      dlq,
      /** CPU of the gateway process (user+system) per message and as a share of one core */
      gatewayCpuUsPerMsg: Math.round((cpu.user + cpu.system) / Math.max(1, r.acked)),
      gatewayCores: +((cpu.user + cpu.system) / 1e6 / r.elapsedS).toFixed(2),
      loadAvg: +os.loadavg()[0]!.toFixed(1),
      /** CPU of the load generator process, in cores */
      loadGenCores: +r.loadCores.toFixed(2),
      kafkaCores: kafka0 === null || kafka1 === null ? null : +((kafka1 - kafka0) / r.elapsedS).toFixed(2),
    };
    row.runs.push(run);
    console.log(
      `  ${format} ${run.mode}: ${run.msgsPerS} msg/s, ${run.samplesPerS} samples/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms (dlq ${dlq}); gateway ${run.gatewayCpuUsPerMsg} µs CPU/msg, ${run.gatewayCores} cores; load generator ${run.loadGenCores} cores; Kafka ${run.kafkaCores ?? '-'} cores; load avg ${run.loadAvg}`,
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  worker.send({ cmd: 'close' });
  await next('closed');
  await new Promise((r) => setTimeout(r, 1000));
  await fleet.drop();
  rows.push(row);
}

type Named = { metricName?: string; value: number };
async function histogramMean(name: string): Promise<number> {
  const values = ((await registry.getSingleMetric(name)?.get())?.values ?? []) as Named[];
  const sum = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  return count ? sum / count : 0;
}
const result = {
  at: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  settings: {
    kafka: args.kafka,
    durationS,
    inflightPerConnection: inflight,
    samplesPerMessage,
    batchWindowMs: Number(args.window),
    qos: 1,
  },
  meanRecordsPerProduce: +(await histogramMean('fitstream_gateway_batch_records')).toFixed(1),
  meanProduceMs: +((await histogramMean('fitstream_gateway_produce_latency_seconds')) * 1000).toFixed(1),
  rows,
};
writeFileSync(`${args.out}.json`, `${JSON.stringify(result, null, 2)}\n`);
const md = [
  '# Gateway throughput',
  '',
  `${result.at}, ${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}. Gateway in one process, raw-MQTT load in another, ${fakeKafkaMs === null ? 'Kafka (acks=all, idempotent) on the same machine' : `**no Kafka** (every produce call acknowledged after ${fakeKafkaMs} ms: gateway-only CPU)`}.`,
  `QoS 1, ${samplesPerMessage} samples/message, ${inflight} messages in flight per connection, ${durationS} s per run, batch window ${args.window} ms; mean ${result.meanRecordsPerProduce} records per produce call, mean produce (acks=all) ${result.meanProduceMs} ms.`,
  '',
  '| connections | format | offered | messages/s | samples/s | payload MB/s | p50 ms | p99 ms | gateway µs CPU/msg | gateway cores | loadgen cores | Kafka cores | load avg | idle RSS KB/conn | idle heap KB/conn |',
  '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.flatMap((r) =>
    r.runs.map(
      (x) =>
        `| ${r.connections} | ${x.format} | ${x.mode} | ${x.msgsPerS} | ${x.samplesPerS} | ${x.payloadMBPerS} | ${x.latencyMs.p50} | ${x.latencyMs.p99} | ${x.gatewayCpuUsPerMsg} | ${x.gatewayCores} | ${x.loadGenCores} | ${x.kafkaCores ?? '-'} | ${x.loadAvg} | ${r.idleRssPerConnKB} | ${r.idleHeapPerConnKB} |`,
    ),
  ),
  '',
  'Command: `node --expose-gc --import tsx bench/gateway-throughput.ts` ' +
    `--connections ${args.connections} --duration ${args.duration} --inflight ${args.inflight} --formats ${args.formats} --window ${args.window} --rates ${args.rates}${args.max === 'false' ? ' --max false' : ''}${fakeKafkaMs === null ? '' : ` --kafka ${args.kafka}`}`,
  '',
  '"max" is closed loop: every connection keeps `inflight` QoS 1 messages outstanding and sends the next on',
  "each PUBACK, so latency there is Little's law (messages in flight / throughput), not service time. The",
  'fixed rates are open loop (messages per second spread over all connections): their latency is what a',
  'device sees at that load. "load avg" is the machine\'s 1-minute load average at the end of the run: the',
  'gateway, the load generator, Kafka and every other process on the machine share its cores, so',
  'throughput and latency move with it. Each process needs a file descriptor per connection (the default',
  'limit here, 20000, is enough for 10k connections because gateway and load run in separate processes).',
  '',
];
writeFileSync(`${args.out}.md`, md.join('\n'));
console.log(md.join('\n'));

worker.kill();
await gateway.close();
await producer.disconnect();
await admin.deleteTopics({ topics: [topicSamples, topicDlq] }).catch(() => {});
await admin.disconnect();
redis.disconnect();
await pool.end();
