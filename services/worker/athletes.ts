import type pg from 'pg';
import type { AthleteProfile } from '../../pipelines/types.js';
import { isPgUnavailable } from '../common/postgres-errors.js';
import { isTransient, SinkRejectedError, SinkUnavailableError } from './errors.js';
import type { AthleteProfiles } from './ports.js';

/** No profiles: every athlete gets pipelines' defaults (tests and tools that have no PostgreSQL). */
export const noProfiles: AthleteProfiles = {
  profiles: async (ids) => new Map(ids.map((id) => [id, {}])),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface UserRow {
  id: string;
  birth_year: number | null;
  weight_kg: string | number | null;
  max_hr: number | null;
  resting_hr: number | null;
  sex: 'female' | 'male' | null;
}

/** A users row as the profile pipelines takes; NULL columns are left out (pipelines' defaults apply). */
export function profileOf(r: UserRow): AthleteProfile {
  const p: AthleteProfile = {};
  if (r.max_hr !== null) p.maxHr = Number(r.max_hr);
  if (r.resting_hr !== null) p.restHr = Number(r.resting_hr);
  if (r.birth_year !== null) p.birthYear = Number(r.birth_year);
  if (r.weight_kg !== null) p.weightKg = Number(r.weight_kg); // numeric(5,2) arrives as a string
  if (r.sex !== null) p.sex = r.sex === 'female' ? 'f' : 'm';
  return p;
}

/**
 * Profiles from PostgreSQL `users`, one `WHERE id = ANY($1)` per call, behind a small TTL cache
 * (a profile edit reaches finalisation within `ttlMs`).
 *
 * - A user id that is not a uuid (devices of test fleets, imports without an account) or that has
 *   no row gets `{}`, i.e. pipelines' defaults (max HR 190 or 220 − age, 70 kg); cached like a hit.
 * - PostgreSQL unreachable: the call throws SinkUnavailableError and the worker retries the
 *   finalisation, as for ClickHouse. It does NOT fall back to defaults: the activity version is
 *   derived from the data (row count + algorithm), not from the profile, so an activity computed
 *   with defaults during an outage would keep those numbers for good (a later recomputation with
 *   the same data is "unchanged") — the result would depend on PostgreSQL's availability.
 */
export class PgAthleteProfiles implements AthleteProfiles {
  private readonly cache = new Map<string, { p: AthleteProfile; at: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  async profiles(userIds: readonly string[]): Promise<Map<string, AthleteProfile>> {
    const now = (this.opts.now ?? Date.now)();
    const ttl = this.opts.ttlMs ?? 60_000;
    const out = new Map<string, AthleteProfile>();
    const ask: string[] = [];
    for (const id of new Set(userIds)) {
      const c = this.cache.get(id);
      if (c && now - c.at < ttl) out.set(id, c.p);
      else if (UUID.test(id)) ask.push(id);
      else out.set(id, {});
    }
    if (ask.length === 0) return out;
    let rows: UserRow[];
    try {
      const r = await this.pool.query<UserRow>(
        `SELECT id::text AS id, extract(year FROM birth_date)::int AS birth_year, weight_kg, max_hr, resting_hr, sex
         FROM users WHERE id = ANY($1::uuid[])`,
        [ask],
      );
      rows = r.rows;
    } catch (err) {
      if (isTransient(err) || isPgUnavailable(err)) throw new SinkUnavailableError('postgres users', err);
      throw new SinkRejectedError('postgres users', err);
    }
    const found = new Map(rows.map((r) => [r.id.toLowerCase(), profileOf(r)]));
    for (const id of ask) {
      const p = found.get(id.toLowerCase()) ?? {};
      out.set(id, p);
      this.remember(id, p, now);
    }
    return out;
  }

  private remember(id: string, p: AthleteProfile, now: number): void {
    this.cache.delete(id);
    this.cache.set(id, { p, at: now });
    if (this.cache.size > (this.opts.maxEntries ?? 100_000)) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}
