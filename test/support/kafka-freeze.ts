// "Kafka stopped" for the tests: freezes the local Kafka broker with SIGSTOP and thaws it with SIGCONT (pid from
// .data/run/kafka.pid). Stopping the server (infra/local/down) would take the whole stack away from everyone
// working on this machine, and a TCP proxy cannot cut kafkajs off because it reconnects to the advertised
// 127.0.0.1:9092 from metadata. A frozen broker accepts TCP but answers nothing, which is what a hung or
// partitioned broker looks like to a client. A freeze is always undone, at the latest after `maxMs`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dataDir = process.env.FITSTREAM_DATA_DIR ?? fileURLToPath(new URL('../../.data', import.meta.url));
const PID_FILE = join(dataDir, 'run', 'kafka.pid');

/**
 * Whether this process may freeze Kafka: only on the native local stack (infra/local), whose broker is our
 * sibling; false elsewhere (e.g. the docker-compose stack), where the tests that need it are skipped.
 */
export const canFreezeKafka = existsSync(PID_FILE);

export async function withKafkaFrozen<T>(fn: () => Promise<T>, maxMs = 13_000): Promise<T> {
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  process.kill(pid, 'SIGSTOP');
  const safety = setTimeout(() => process.kill(pid, 'SIGCONT'), maxMs);
  try {
    return await fn();
  } finally {
    clearTimeout(safety);
    process.kill(pid, 'SIGCONT');
  }
}
