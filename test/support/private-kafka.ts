// A private single-node Kafka broker for tests that stop and restart Kafka (infra/local/kafka-private):
// its own JVM on spare ports with its data in a temp folder, so the shared broker on 9092 keeps serving
// everyone else. Stop it with SIGTERM (orderly shutdown) or SIGKILL (crash), start it again on the same
// data. The process is killed when the test process exits, and by the script's watchdog if this process
// dies without running its exit handlers.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const SCRIPT = fileURLToPath(new URL('../../infra/local/kafka-private', import.meta.url));
const DATA_DIR = process.env.FITSTREAM_DATA_DIR ?? fileURLToPath(new URL('../../.data', import.meta.url));

/** True when infra/local installed the Kafka jars this helper runs (skip tests elsewhere). */
export const privateKafkaAvailable = (): boolean =>
  existsSync(join(DATA_DIR, 'opt', 'kafka', 'libs', '.stamp'));

export interface PrivateKafka {
  /** `127.0.0.1:{port}`, for kafkajs `brokers` */
  readonly brokers: string;
  readonly port: number;
  /** config, data and `kafka.log` */
  readonly dir: string;
  /** pid of the running JVM, null while stopped */
  readonly pid: number | null;
  /** starts the broker (again, on the same data) and waits until it serves metadata */
  start(): Promise<void>;
  /** sends `signal` and waits for the process to exit (SIGTERM: orderly shutdown, SIGKILL: crash) */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** kills the broker if it runs and deletes its folder */
  destroy(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHook = false;
function killOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

/** Creates (does not start) a private broker in a fresh temp folder on two spare ports. */
export async function createPrivateKafka(opts: { startTimeoutMs?: number } = {}): Promise<PrivateKafka> {
  const dir = mkdtempSync(join(tmpdir(), 'fitstream-kafka-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const brokers = `127.0.0.1:${port}`;
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  killOnExit();

  async function waitReady(p: ChildProcess): Promise<void> {
    const t0 = Date.now();
    const kafka = new Kafka({
      clientId: 'private-kafka-probe',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      retry: { retries: 0 },
    });
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null) {
        throw new Error(
          `private Kafka exited (${p.exitCode ?? p.signalCode}) during start; see ${dir}/kafka.log`,
        );
      }
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
        return;
      } catch {
        if (Date.now() - t0 > startTimeoutMs) {
          throw new Error(`private Kafka not ready within ${startTimeoutMs} ms; see ${dir}/kafka.log`);
        }
        await new Promise((r) => setTimeout(r, 250));
      } finally {
        await admin.disconnect().catch(() => {});
      }
    }
  }

  const self: PrivateKafka = {
    brokers,
    port,
    dir,
    get pid() {
      return proc?.pid ?? null;
    },
    async start() {
      if (proc) throw new Error('private Kafka is already running');
      const log = createWriteStream(join(dir, 'kafka.log'), { flags: 'a' });
      const p = spawn(SCRIPT, [join(dir, 'broker'), String(port), String(controllerPort)], {
        env: { ...process.env, FS_OWNER_PID: String(process.pid) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      p.stdout?.pipe(log, { end: false });
      p.stderr?.pipe(log, { end: false });
      p.once('close', () => log.end());
      proc = p;
      live.add(p);
      exited = new Promise((resolve) =>
        p.once('exit', () => {
          live.delete(p);
          if (proc === p) proc = null;
          resolve();
        }),
      );
      try {
        await waitReady(p);
      } catch (err) {
        await self.stop('SIGKILL');
        throw err;
      }
    },
    async stop(signal = 'SIGTERM') {
      const p = proc;
      if (!p) return;
      p.kill(signal);
      // an orderly shutdown takes a few seconds; a broker that hangs in it is killed after 60 s
      const hang = setTimeout(() => p.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(hang);
    },
    async destroy() {
      await self.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
