// The Redis cache of the stats figures that come from ClickHouse, and the consumer that invalidates it.
//
// Why a generation counter and not a DEL: a reader that computed its figures before an activity's row was
// stored could write them back after a DEL, and that stale entry would outlive the event. Instead every
// cache key carries the athlete's generation `fitstream:stats:gen:{userId}`, read before ClickHouse is
// asked; the invalidator INCRs it for each activities.v1 record (key = userId) before it commits the
// record's offset. Rows are stored before their event is published (docs/analytics.md), so a read that
// starts after the INCR uses a new key, misses, and reads ClickHouse with the row in it; a slower reader
// of the old generation can only write the old key, which nobody asks for again. Once the invalidator has
// processed an event, no figure from before it is served.

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { runAthleteBatches } from './athlete-batches.js';

export const STATS_BUMPS_METRIC = 'fitstream_api_stats_generation_bumps_total';

export const statsKeys = {
  generation: (userId: string) => `fitstream:stats:gen:${userId}`,
  /** everything the cached figures depend on besides the athlete's activities: the periods' frame */
  entry: (userId: string, generation: string, frame: string) =>
    `fitstream:stats:${userId}:${generation}:${frame}`,
};

export interface StatsCache {
  /** the cached value for `frame`, or what `compute` gives (then cached); Redis away = computed uncached */
  get<T>(userId: string, frame: string, compute: () => Promise<T>): Promise<T>;
}

export function redisStatsCache(redis: Redis, ttlS: number): StatsCache {
  return {
    async get<T>(userId: string, frame: string, compute: () => Promise<T>): Promise<T> {
      let key: string | null = null;
      try {
        const generation = (await redis.get(statsKeys.generation(userId))) ?? '0';
        key = statsKeys.entry(userId, generation, frame);
        const hit = await redis.get(key);
        if (hit !== null) return JSON.parse(hit) as T;
      } catch {
        // Redis holds only what can be rebuilt: without it the figures come from ClickHouse each time
        key = null;
      }
      const value = await compute();
      if (key !== null) await redis.set(key, JSON.stringify(value), 'EX', ttlS).catch(() => {});
      return value;
    },
  };
}

/**
 * `select` for reads of one athlete's ClickHouse rows, cached under the athlete's generation when `cache` is
 * given: the query text is the frame (it holds every filter, e.g. a coach's list without the private ones).
 * Only for reads whose rows change with an activities.v1 record of that athlete and nothing else.
 */
export function athleteRows(
  cache: StatsCache | null,
  select: <T>(query: string) => Promise<T[]>,
): <T>(userId: string, query: string) => Promise<T[]> {
  return <T>(userId: string, query: string) =>
    cache
      ? cache.get(userId, `rows:${createHash('sha256').update(query).digest('hex')}`, () => select<T>(query))
      : select<T>(query);
}

/**
 * The consumer group on activities.v1 that bumps the athletes' stats generations. It reads only the
 * record keys (the userId, as every activities.v1 producer keys them: schemas/*.avsc), so it needs no
 * schema registry, and any record — created, updated, deleted — invalidates. Offsets are committed after
 * the INCRs: a crash re-delivers and re-bumps, which costs a cache miss, never a stale figure.
 */
export class StatsInvalidator {
  private consumer: Consumer | null = null;
  private readonly bumps: Counter;

  constructor(
    private readonly kafka: Kafka,
    private readonly redis: Redis,
    private readonly opts: { topic: string; groupId: string; registry: Registry },
  ) {
    this.bumps = new Counter({
      name: STATS_BUMPS_METRIC,
      help: 'Athlete stats generations bumped (one per athlete per batch of activities.v1 records)',
      registers: [opts.registry],
    });
  }

  /** generations bumped so far (what tests wait on) */
  async bumped(): Promise<number> {
    return (await this.bumps.get()).values[0]?.value ?? 0;
  }

  async start(): Promise<void> {
    // offsets are committed after the INCRs (runAthleteBatches)
    this.consumer = await runAthleteBatches(this.kafka, this.opts, async (users) => {
      if (users.length > 0) {
        const p = this.redis.multi();
        for (const u of users) p.incr(statsKeys.generation(u));
        const results = await p.exec();
        const failed = results?.find(([err]) => err);
        if (!results || failed) throw failed?.[0] ?? new Error('stats generation INCR not executed');
      }
      this.bumps.inc(users.length);
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
