import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { createTestUser, deleteTestUsers } from '../../test/support/users.js';
import {
  batchOf,
  controlOf,
  type Isolated,
  isolate,
  produce,
  rid,
  rows,
  waitFor,
} from '../../test/support/worker.js';
import { createLogger } from '../common/logger.js';
import { startWorkerRuntime } from './app.js';
import { PgAthleteProfiles } from './athletes.js';
import { computeActivity } from './compute.js';
import { SinkUnavailableError } from './errors.js';

// Athlete profiles come from PostgreSQL `users` at finalisation (the real local server).
describe('athlete profiles', () => {
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream';
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const athlete = randomUUID();
  let iso: Isolated;

  beforeAll(async () => {
    await createTestUser(pool, {
      id: athlete,
      email: `wtest-${rid()}@example.test`,
      name: 'worker test',
      birthDate: '1990-05-17',
      weightKg: 62.5,
      maxHr: 170,
      restingHr: 48,
      sex: 'female',
    });
    // The worker reads the profiles from the database this test writes them to.
    iso = await isolate({ env: { DATABASE_URL: databaseUrl } });
  });
  afterAll(async () => {
    await deleteTestUsers(pool, [athlete]);
    await pool.end();
    await iso?.cleanup();
  });

  test('one query for many users; unknown and non-uuid ids get defaults; cached for the TTL', async () => {
    let now = 1_000;
    let queries = 0;
    const counting = {
      query: (...a: unknown[]) => {
        queries++;
        return (pool.query as (...x: unknown[]) => unknown).apply(pool, a);
      },
    };
    const p = new PgAthleteProfiles(counting as unknown as pg.Pool, { ttlMs: 60_000, now: () => now });
    const unknown = randomUUID();
    const got = await p.profiles([athlete, unknown, 'u-not-a-uuid', athlete]);
    expect(queries).toBe(1);
    expect(got.get(athlete)).toEqual({ maxHr: 170, restHr: 48, birthYear: 1990, weightKg: 62.5, sex: 'f' });
    expect(got.get(unknown)).toEqual({});
    expect(got.get('u-not-a-uuid')).toEqual({});
    await p.profiles([athlete, unknown]);
    expect(queries).toBe(1); // both cached (the miss too)
    now += 60_000;
    await p.profiles([athlete]);
    expect(queries).toBe(2);
  });

  test('PostgreSQL unreachable: a retryable error, never silent defaults', async () => {
    const down = new pg.Pool({
      connectionString: 'postgres://x:y@127.0.0.1:1/none',
      connectionTimeoutMillis: 500,
    });
    try {
      const err = await new PgAthleteProfiles(down).profiles([randomUUID()]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SinkUnavailableError);
      expect((err as SinkUnavailableError).retryable).toBe(true);
    } finally {
      await down.end();
    }
  });

  test("finalisation computes HR zones from the athlete's max HR; unknown users get defaults", async () => {
    const w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'error'));
    try {
      const { samples } = generateSession({ sport: 'running', seed: 11, durationS: 300 });
      const known = { userId: athlete, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
      const unknown = { userId: randomUUID(), deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
      const plain = { userId: `u-${rid()}`, deviceId: `d-${rid()}`, sessionId: `s-${rid()}` };
      const end = samples.at(-1)!.ts + 1000;
      await produce(
        iso,
        [known, unknown, plain].flatMap((ids) => [
          { name: 'TelemetryBatch' as const, value: batchOf(ids, samples) },
          { name: 'SessionControl' as const, value: controlOf(ids, 'end', end) },
        ]),
      );
      type Row = {
        session_id: string;
        version: number;
        hr_max_used: number;
        hr_max_source: string;
        summary: string;
      };
      const read = () =>
        rows<Row>(
          iso.ch,
          `SELECT session_id, version, hr_max_used, hr_max_source, summary FROM ${iso.database}.activities_v
           WHERE session_id IN ('${known.sessionId}', '${unknown.sessionId}', '${plain.sessionId}')`,
        );
      const got = await waitFor(async () => {
        const r = await read();
        return r.length === 3 ? new Map(r.map((x) => [x.session_id, x])) : null;
      }, 30_000);
      const k = got.get(known.sessionId)!;
      expect(Number(k.hr_max_used)).toBe(170);
      expect(k.hr_max_source).toBe('athlete');
      const summary = JSON.parse(k.summary) as { hr: { maxHrUsed: number; maxHrSource: string } };
      expect(summary.hr).toMatchObject({ maxHrUsed: 170, maxHrSource: 'athlete' });
      for (const s of [unknown.sessionId, plain.sessionId]) {
        expect(Number(got.get(s)!.hr_max_used)).toBe(190);
        expect(got.get(s)!.hr_max_source).toBe('default');
      }
      // same input, same output: a recomputation changes nothing (the version comes from the data).
      // The rows are visible before the worker's round has announced them; a recomputation in
      // between would announce the stored version again ('created', as after a crash), so wait for
      // the round to end first.
      await waitFor(async () => w.sessions.stats.created >= 3 || null, 30_000);
      const ref = { ...known, sport: 'running' };
      expect(await w.sessions.finalise(ref, 'recompute')).toBe('unchanged');
      const again = new Map((await read()).map((x) => [x.session_id, x]));
      expect(again.get(known.sessionId)).toEqual(k);
    } finally {
      await w.close();
    }
  }, 60_000);
});
