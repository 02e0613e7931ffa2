import type { ChainableCommander, Redis } from 'ioredis';
import { liveKeys } from '../../schemas/live-keys.js';
import { SinkUnavailableError } from './errors.js';
import type { LiveSnapshot } from './live.js';
import type { LiveStore } from './ports.js';

/**
 * Live state in Redis (keys in schemas/live-keys.ts, read by the API's live views; documented in docs/analytics.md):
 * - hash `fitstream:live:{activityId}`: the latest LiveSnapshot, one field per property
 *   (numbers as decimal strings, null as ''), refreshed each flush; expires `ttlS` after the
 *   last update, so `ttlS` after the end (or after the session went quiet);
 * - sorted set `fitstream:live:active:{userId}`: activityIds in progress, score = latest device
 *   ts; a session leaves it on its end message;
 * - pub/sub: the snapshot as JSON on `fitstream:live:session:{activityId}` and
 *   `fitstream:live:user:{userId}`.
 *
 * An ended session stays ended for as long as its hash lives: a snapshot for a hash whose status is
 * `ended` changes nothing and is not published. The tracker forgets a session at its end, so samples
 * that arrive after it (a bridge may reorder them behind the end) would otherwise bring the session
 * back as `active` with only those samples, and put it back into the athlete's active set.
 */
/**
 * Writes the hash unless it says `ended`; returns 1 when written. One key, so it stays valid on Redis
 * Cluster (the active set and the channels are per user and need not share the hash's slot).
 * ARGV: ttl, then field/value pairs.
 */
const SET_UNLESS_ENDED = `
if redis.call('HGET', KEYS[1], 'status') == 'ended' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

type WithLiveSet = ChainableCommander & {
  fitstreamLiveSet(hash: string, ttlS: number, ...fieldValues: string[]): ChainableCommander;
};

export class RedisLiveStore implements LiveStore {
  readonly name = 'redis';

  constructor(
    private readonly redis: Redis,
    private readonly ttlS: number,
  ) {
    // Sent once as EVALSHA (ioredis loads the script on NOSCRIPT).
    redis.defineCommand('fitstreamLiveSet', { numberOfKeys: 1, lua: SET_UNLESS_ENDED });
  }

  async publish(states: readonly LiveSnapshot[]): Promise<void> {
    if (states.length === 0) return;
    const set = this.redis.pipeline() as WithLiveSet;
    for (const s of states) {
      const fieldValues: string[] = [];
      for (const [k, v] of Object.entries(s)) fieldValues.push(k, v === null ? '' : String(v));
      set.fitstreamLiveSet(liveKeys.hash(s.activityId), this.ttlS, ...fieldValues);
    }
    const written = await this.exec(set);
    const p = this.redis.pipeline();
    let n = 0;
    states.forEach((s, i) => {
      if (written[i]?.[1] !== 1) return;
      n++;
      const active = liveKeys.active(s.userId);
      if (s.status === 'ended') p.zrem(active, s.activityId);
      else p.zadd(active, s.ts, s.activityId);
      p.expire(active, this.ttlS);
      const json = JSON.stringify(s);
      p.publish(liveKeys.sessionChannel(s.activityId), json);
      p.publish(liveKeys.userChannel(s.userId), json);
    });
    if (n > 0) await this.exec(p);
  }

  private async exec(p: ChainableCommander): Promise<[Error | null, unknown][]> {
    let res: [Error | null, unknown][] | null;
    try {
      res = await p.exec();
    } catch (err) {
      throw new SinkUnavailableError('redis', err);
    }
    const failed = res?.find(([e]) => e !== null);
    if (failed) throw new SinkUnavailableError('redis', failed[0]);
    return res ?? [];
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
