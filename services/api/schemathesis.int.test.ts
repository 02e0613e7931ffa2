import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ApiStack, startApiStack } from '../../test/support/api-stack.js';
import { PointsStore } from './points-store.js';

// schemathesis (scripts/schemathesis.sh, PyPI, pinned) against the API's own OpenAPI document, signed in,
// every check, a fixed seed, a size that fits CI. The first run installs it into the data folder.
let s: ApiStack;
beforeAll(async () => {
  // a PostgreSQL database of its own: what it publishes (points rules) stays its own
  s = await startApiStack({ privatePg: true });
  // the first points computation of this store, as a deployed API's PointsConsumer runs it at start (before
  // it, the leaderboards answer their documented 503)
  await new PointsStore(s.pool, s.clickhouse, s.database, s.redis).catchUp();
});
afterAll(async () => s?.close());

// Runs a child process; after `limitMs` it is killed and what it printed so far is returned, so an overrun
// shows where schemathesis was rather than a bare test timeout.
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, limitMs: number) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      out += `\n[killed after ${limitMs} ms]\n`;
      p.kill('SIGKILL');
    }, limitMs);
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

// ~2 minutes on a quiet machine (9 before the event streams ran apart; the first run also installs schemathesis); more under the load of
// several test suites at once, hence the generous limit
const RUN_LIMIT_MS = 1_200_000;

describe('schemathesis', () => {
  test(
    'finds no server error, undocumented status or content type, or schema-violating answer',
    async () => {
      const r = await run(
        'bash',
        ['scripts/schemathesis.sh', s.baseUrl],
        {
          ST_MAX_EXAMPLES: process.env.ST_MAX_EXAMPLES ?? '5',
          ST_SEED: '1',
        },
        RUN_LIMIT_MS,
      );
      if (r.code !== 0) console.log(r.out);
      expect(r.out).toMatch(/No issues found|passed/);
      // both passes ran (scripts/schemathesis.sh: the event streams apart, with a short timeout)
      expect(r.out.match(/Test cases:/g)?.length).toBe(2);
      expect(r.code).toBe(0);
    },
    RUN_LIMIT_MS + 60_000,
  );
});
