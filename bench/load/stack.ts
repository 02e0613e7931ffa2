// The services of a load run as real processes (node + tsx, the same main.ts a deployment runs) on the
// shared local stack, each pointed at the run's private topics, consumer groups, ClickHouse database and S3
// prefix so that other runs and tests on the machine neither see nor disturb its records.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface Service {
  name: string;
  proc: ChildProcess;
  pid: number;
  opsUrl: string;
  /** MQTT URL of an embedded gateway */
  mqttUrl?: string;
  stop(): Promise<void>;
}

export interface RunNames {
  runId: string;
  samples: string;
  dlq: string;
  activities: string;
  goals: string;
  database: string;
  prefix: string;
}

async function waitReady(name: string, url: string, proc: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode} before it was ready`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms`);
}

export async function startService(
  name: string,
  entry: string,
  env: Record<string, string>,
  opsPort: number,
  logDir: string,
  readyPath = '/readyz',
): Promise<Service> {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${name}.log`));
  // --cpu-prof of bench:load: each service writes <logDir>/profiles/<name>.cpuprofile when it exits
  const profile = process.env.FITSTREAM_LOAD_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, 'profiles')}`, `--cpu-prof-name=${name}.cpuprofile`]
    : [];
  const args = [...profile, '--import', 'tsx', '--enable-source-maps', join(ROOT, entry)];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  const svc: Service = {
    name,
    proc,
    pid: proc.pid ?? 0,
    opsUrl,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
  try {
    await waitReady(name, `${opsUrl}${readyPath}`, proc);
  } catch (err) {
    await svc.stop();
    throw err;
  }
  return svc;
}

/** The i-th gateway's client id (Kafka, and its session on the external broker in bridge mode). */
export const gatewayClientId = (runId: string, i: number) => `load-gw-${runId}-${i}`;

/** The external broker the gateways bridge from in bridge mode (the local Mosquitto unless BRIDGE_URL). */
export const bridgeUrl = () => process.env.BRIDGE_URL ?? 'mqtt://127.0.0.1:1884';

export async function startGateway(
  n: RunNames,
  i: number,
  mode: 'embedded' | 'bridge',
  logDir: string,
): Promise<Service> {
  const ops = await freePort();
  const mqtt = await freePort();
  const ws = await freePort();
  const svc = await startService(
    `gateway-${i}`,
    'services/gateway/main.ts',
    {
      GATEWAY_MODE: mode,
      GATEWAY_HOST: '127.0.0.1',
      MQTT_PORT: String(mqtt),
      MQTT_WS_PORT: String(ws),
      OPS_HOST: '127.0.0.1',
      OPS_PORT: String(ops),
      TOPIC_SAMPLES: n.samples,
      TOPIC_DLQ: n.dlq,
      KAFKA_CLIENT_ID: gatewayClientId(n.runId, i),
      // the run's own share group: other gateways on the shared Mosquitto get their own copies
      BRIDGE_SHARE_GROUP: `load${n.runId}`,
      BRIDGE_CLIENT_ID: gatewayClientId(n.runId, i),
    },
    ops,
    logDir,
  );
  if (mode === 'embedded') svc.mqttUrl = `mqtt://127.0.0.1:${mqtt}`;
  return svc;
}

export async function startWorker(
  n: RunNames,
  i: number,
  logDir: string,
  sessionTimeoutS: number,
  finaliseMemoryMb: number,
): Promise<Service> {
  const ops = await freePort();
  return startService(
    `worker-${i}`,
    'services/worker/main.ts',
    {
      TOPIC_SAMPLES: n.samples,
      TOPIC_DLQ: n.dlq,
      TOPIC_ACTIVITIES: n.activities,
      CLICKHOUSE_DATABASE: n.database,
      WORKER_GROUP_ID: `load-${n.runId}`,
      WORKER_ARCHIVE_PREFIX: n.prefix,
      WORKER_OPS_PORT: String(ops),
      WORKER_SESSION_TIMEOUT_S: String(sessionTimeoutS),
      WORKER_FINALISE_MEMORY_MB: String(finaliseMemoryMb),
      KAFKA_CLIENT_ID: `load-worker-${n.runId}-${i}`,
    },
    ops,
    logDir,
  );
}

export async function startEngagement(n: RunNames, logDir: string): Promise<Service> {
  const ops = await freePort();
  return startService(
    'engagement',
    'services/engagement/main.ts',
    {
      TOPIC_ACTIVITIES: n.activities,
      TOPIC_GOALS: n.goals,
      ENGAGEMENT_GROUP_ID: `load-eng-${n.runId}`,
      ENGAGEMENT_TRANSACTIONAL_ID: `load-eng-${n.runId}`,
      ENGAGEMENT_OPS_PORT: String(ops),
      KAFKA_CLIENT_ID: `load-eng-${n.runId}`,
    },
    ops,
    logDir,
  );
}

export async function startApi(n: RunNames, logDir: string): Promise<Service> {
  const port = await freePort();
  return startService(
    'api',
    'services/api/main.ts',
    {
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      CLICKHOUSE_DATABASE: n.database,
      TOPIC_SAMPLES: n.samples,
      TOPIC_ACTIVITIES: n.activities,
      API_STATS_GROUP_ID: `load-api-${n.runId}`,
      KAFKA_CLIENT_ID: `load-api-${n.runId}`,
    },
    port,
    logDir,
  );
}

/** A bare aedes broker (no authentication, no Kafka: PUBACK at once), the gateway's baseline. */
export async function startBareAedes(logDir: string): Promise<Service> {
  const ops = await freePort();
  const mqtt = await freePort();
  const svc = await startService(
    'bare-aedes',
    'bench/load/bare-aedes.ts',
    { MQTT_PORT: String(mqtt), OPS_PORT: String(ops) },
    ops,
    logDir,
    '/',
  );
  svc.mqttUrl = `mqtt://127.0.0.1:${mqtt}`;
  return svc;
}
