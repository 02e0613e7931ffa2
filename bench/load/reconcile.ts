// Reconciliation of a load run against ClickHouse: every acknowledged sample stored exactly once (by its
// identity: device id, client session id, sample_key — the seq, which every generated sample has;
// docs/analytics.md), every finished workout one activity
// with its distance near the ground truth. All the run's ClickHouse queries are in this one file, against
// the documented identity columns only, so a change of the worker's tables touches nothing else.
// SQL for ClickHouse 18.16 and current (no query parameters: the values are the run's own ids, quoted).
import type { ClickHouseClient } from '@clickhouse/client';
import type { WorkoutLedger } from './generator.js';

const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const num = (x: unknown) => Number(x);

async function rows<T>(ch: ClickHouseClient, query: string): Promise<T[]> {
  const r = await ch.query({ query, format: 'JSONEachRow' });
  return (await r.json()) as T[];
}

/** Rows of the run in `samples` as stored (before replacing merges collapse duplicates). */
export async function storedRows(ch: ClickHouseClient, db: string, userId: string): Promise<number> {
  const [r] = await rows<{ n: string }>(
    ch,
    `SELECT count() AS n FROM ${db}.samples WHERE user_id = ${q(userId)}`,
  );
  return num(r?.n ?? 0);
}

/**
 * Newest device time stored per session, for the tracer sessions (latency device -> row). Filtered on the
 * table's key prefix (user, device, session), and the tracers are the first devices of the fleet, whose
 * zero-padded ids are neighbours in that key: polled every 500 ms, it reads a few granules. On user and
 * session alone (session is third in the key), or on 200 devices spread over the key, it read most of the
 * run's rows each time (~1 s at 3.8M rows), a cost that grew with the table.
 */
export async function newestStored(
  ch: ClickHouseClient,
  db: string,
  userId: string,
  sessions: readonly { deviceId: string; sessionId: string }[],
): Promise<Map<string, number>> {
  if (sessions.length === 0) return new Map();
  const r = await rows<{ s: string; ts: string }>(
    ch,
    `SELECT session_id AS s, max(ts) AS ts FROM ${db}.samples WHERE user_id = ${q(userId)}
     AND device_id IN (${sessions.map((x) => q(x.deviceId)).join(',')})
     AND session_id IN (${sessions.map((x) => q(x.sessionId)).join(',')}) GROUP BY session_id`,
  );
  return new Map(r.map((x) => [x.s, num(x.ts)]));
}

export interface SampleMismatch {
  sessionId: string;
  deviceId: string;
  expected: number;
  /** rows in query results (FINAL) */
  rows: number;
  /** distinct seqs among them */
  unique: number;
  /** up to 20 seqs not stored */
  missing: number[];
  /** seqs outside 0..lastSeq */
  extra: number;
}

export interface ActivityCheck {
  sessionId: string;
  activities: number;
  distanceM: number | null;
  truthM: number;
  errorPct: number | null;
}

export interface Reconciliation {
  sessions: number;
  expectedSamples: number;
  /** rows in query results (FINAL): what an analyst counts */
  rowsFinal: number;
  /** rows stored before merges: duplicates the storage still holds */
  rowsRaw: number;
  uniqueStored: number;
  missingSamples: number;
  duplicateSamples: number;
  extraSamples: number;
  mismatches: SampleMismatch[];
  finishedWorkouts: number;
  activities: number;
  workoutsWithoutActivity: number;
  workoutsWithSeveralActivities: number;
  distanceBoundPct: number;
  distanceBoundFloorM: number;
  /** workouts whose |distance - truth| exceeds both the relative bound and the floor */
  distanceOutsideBound: number;
  distanceErrorPct: { mean: number; p95: number; max: number };
  activityChecks: ActivityCheck[];
}

/** Stored samples by session (FINAL) against the ledger; then activities against the ground truth. */
export async function reconcile(
  ch: ClickHouseClient,
  db: string,
  userId: string,
  ledger: readonly WorkoutLedger[],
  distanceBoundPct: number,
  /** absolute floor of the bound: a 30 s walk of 40 m cannot be measured to 1 % with 5 m GPS noise */
  distanceBoundFloorM = 5,
): Promise<Reconciliation> {
  const u = q(userId);
  const bySession = new Map(
    (
      await rows<{ s: string; n: string; u: string; lo: string; hi: string }>(
        ch,
        `SELECT session_id AS s, count() AS n, uniqExact(sample_key) AS u, min(sample_key) AS lo, max(sample_key) AS hi
         FROM ${db}.samples FINAL WHERE user_id = ${u} GROUP BY session_id`,
      )
    ).map((r) => [r.s, r]),
  );
  const rowsRaw = await storedRows(ch, db, userId);
  const mismatches: SampleMismatch[] = [];
  let expectedSamples = 0;
  let rowsFinal = 0;
  let uniqueStored = 0;
  let missingSamples = 0;
  let duplicateSamples = 0;
  let extraSamples = 0;
  for (const w of ledger) {
    const expected = w.lastSeq + 1;
    expectedSamples += expected;
    const r = bySession.get(w.sessionId);
    const n = num(r?.n ?? 0);
    const un = num(r?.u ?? 0);
    rowsFinal += n;
    uniqueStored += un;
    duplicateSamples += n - un;
    const extra = r && (num(r.lo) < 0 || num(r.hi) > w.lastSeq) ? Math.max(0, un - expected) : 0;
    extraSamples += extra;
    const missing = Math.max(0, expected - (un - extra));
    missingSamples += missing;
    if (n !== expected || un !== expected || extra > 0) {
      mismatches.push({
        sessionId: w.sessionId,
        deviceId: w.deviceId,
        expected,
        rows: n,
        unique: un,
        missing: [],
        extra,
      });
    }
  }
  // which seqs are missing, for the first few sessions that lack some
  for (const m of mismatches.slice(0, 20)) {
    if (m.unique >= m.expected) continue;
    const have = new Set(
      (
        await rows<{ seq: string }>(
          ch,
          `SELECT DISTINCT sample_key AS seq FROM ${db}.samples WHERE user_id = ${u} AND session_id = ${q(m.sessionId)}`,
        )
      ).map((r) => num(r.seq)),
    );
    for (let i = 0; i < m.expected && m.missing.length < 20; i++) if (!have.has(i)) m.missing.push(i);
  }
  const planned = new Set(ledger.map((w) => w.sessionId));
  for (const [s, r] of bySession) if (!planned.has(s)) extraSamples += num(r.n);

  const acts = new Map(
    (
      await rows<{ s: string; n: string; d: string }>(
        ch,
        `SELECT session_id AS s, count() AS n, any(distance_m) AS d FROM ${db}.activities FINAL
         WHERE user_id = ${u} GROUP BY session_id`,
      )
    ).map((r) => [r.s, r]),
  );
  const finished = ledger.filter((w) => w.finished);
  const checks: ActivityCheck[] = finished.map((w) => {
    const a = acts.get(w.sessionId);
    const d = a ? num(a.d) : null;
    return {
      sessionId: w.sessionId,
      activities: num(a?.n ?? 0),
      distanceM: d,
      truthM: w.truthDistanceM,
      errorPct:
        d === null || w.truthDistanceM <= 0 ? null : ((d - w.truthDistanceM) / w.truthDistanceM) * 100,
    };
  });
  const outside = (c: ActivityCheck) =>
    c.distanceM !== null &&
    Math.abs(c.distanceM - c.truthM) > Math.max((distanceBoundPct / 100) * c.truthM, distanceBoundFloorM);
  const errs = checks
    .map((c) => c.errorPct)
    .filter((e): e is number => e !== null)
    .map(Math.abs)
    .sort((a, b) => a - b);
  return {
    sessions: ledger.length,
    expectedSamples,
    rowsFinal,
    rowsRaw,
    uniqueStored,
    missingSamples,
    duplicateSamples,
    extraSamples,
    mismatches: mismatches.slice(0, 50),
    finishedWorkouts: finished.length,
    activities: checks.filter((c) => c.activities > 0).length,
    workoutsWithoutActivity: checks.filter((c) => c.activities === 0).length,
    workoutsWithSeveralActivities: checks.filter((c) => c.activities > 1).length,
    distanceBoundPct,
    distanceBoundFloorM,
    distanceOutsideBound: checks.filter(outside).length,
    distanceErrorPct: {
      mean: errs.length ? errs.reduce((s, e) => s + e, 0) / errs.length : 0,
      p95: errs.length ? errs[Math.min(errs.length - 1, Math.floor(errs.length * 0.95))]! : 0,
      max: errs.length ? errs[errs.length - 1]! : 0,
    },
    activityChecks: checks.filter((c) => c.activities !== 1 || outside(c)).slice(0, 50),
  };
}

/** Activities stored for the run so far (to wait for finalisation). */
export async function activityCount(ch: ClickHouseClient, db: string, userId: string): Promise<number> {
  const [r] = await rows<{ n: string }>(
    ch,
    `SELECT count() AS n FROM ${db}.activities FINAL WHERE user_id = ${q(userId)}`,
  );
  return num(r?.n ?? 0);
}

/** Compressed bytes and rows of the run's `samples` parts (system.parts: active parts, before or after merges). */
export async function samplesStorage(
  ch: ClickHouseClient,
  db: string,
): Promise<{ rows: number; bytes: number }> {
  const [r] = await rows<{ r: string; b: string }>(
    ch,
    `SELECT sum(rows) AS r, sum(bytes) AS b FROM system.parts WHERE active AND database = ${q(db)} AND table = 'samples'`,
  );
  return { rows: num(r?.r ?? 0), bytes: num(r?.b ?? 0) };
}
