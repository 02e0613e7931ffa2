import type { Redis } from 'ioredis';
import { liveKeys } from '../common/live-keys.js';
import { SinkUnavailableError } from './errors.js';
import type { LiveSnapshot } from './live.js';

/**
 * Live state in Redis (keys in services/common/live-keys.ts, read by the API's live views; documented in docs/analytics.md):
 * - hash `fitstream:live:{activityId}`: the latest LiveSnapshot, one field per property
 *   (numbers as decimal strings, null as ''), refreshed each flush; expires `ttlS` after the
 *   last update, so `ttlS` after the end (or after the session went quiet);
 * - sorted set `fitstream:live:active:{userId}`: activityIds in progress, score = latest device
 *   ts; a session leaves it on its end message;
 * - pub/sub: the snapshot as JSON on `fitstream:live:session:{activityId}` and
 *   `fitstream:live:user:{userId}`.
 */
export interface LiveStore {
  readonly name: string;
  publish(states: readonly LiveSnapshot[]): Promise<void>;
  close(): Promise<void>;
}

export class RedisLiveStore implements LiveStore {
  readonly name = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {}

  async publish(states: readonly LiveSnapshot[]): Promise<void> {
    if (states.length === 0) return;
    const p = this.redis.pipeline();
    for (const s of states) {
      const hash = liveKeys.hash(s.activityId);
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(s)) fields[k] = v === null ? '' : String(v);
      p.hset(hash, fields);
      p.expire(hash, this.ttlS);
      const active = liveKeys.active(s.userId);
      if (s.status === 'ended') p.zrem(active, s.activityId);
      else p.zadd(active, s.ts, s.activityId);
      p.expire(active, this.ttlS);
      const json = JSON.stringify(s);
      p.publish(liveKeys.sessionChannel(s.activityId), json);
      p.publish(liveKeys.userChannel(s.userId), json);
    }
    let res: [Error | null, unknown][] | null;
    try {
      res = await p.exec();
    } catch (err) {
      throw new SinkUnavailableError('redis', err);
    }
    const failed = res?.find(([e]) => e !== null);
    if (failed) throw new SinkUnavailableError('redis', failed[0]);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
