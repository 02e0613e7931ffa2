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

import type { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';

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
    const consumer = this.kafka.consumer({ groupId: this.opts.groupId, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    await consumer.connect();
    // A new group reads the topic from its start: a group that began at the end would miss what arrives
    // between start() and its first assignment, while the API already serves. Replaying costs one INCR per
    // athlete per batch, once.
    await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    await consumer.run({
      // resolved offsets only, i.e. after the INCRs
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
        const users = new Set<string>();
        for (const m of batch.messages) if (m.key && m.key.length > 0) users.add(m.key.toString('utf8'));
        if (users.size > 0) {
          const p = this.redis.multi();
          for (const u of users) p.incr(statsKeys.generation(u));
          const results = await p.exec();
          const failed = results?.find(([err]) => err);
          if (!results || failed) throw failed?.[0] ?? new Error('stats generation INCR not executed');
        }
        this.bumps.inc(users.size);
        const last = batch.messages.at(-1);
        if (last) resolveOffset(last.offset);
        await commitOffsetsIfNecessary();
        await heartbeat();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = null;
  }
}
