/**
 * Redis keys of the live-session contract: the worker writes them (services/worker/store-redis.ts),
 * the API reads them (services/api/routes/live.ts); documented in docs/analytics.md.
 * - hash `fitstream:live:{sessionId}`: the latest live snapshot, one field per property
 *   (numbers as decimal strings, null as '');
 * - sorted set `fitstream:live:active:{userId}`: sessionIds in progress, score = latest device ts;
 * - pub/sub: the snapshot as JSON on `fitstream:live:session:{sessionId}` and `fitstream:live:user:{userId}`.
 */
export const liveKeys = {
  hash: (sessionId: string) => `fitstream:live:${sessionId}`,
  active: (userId: string) => `fitstream:live:active:${userId}`,
  sessionChannel: (sessionId: string) => `fitstream:live:session:${sessionId}`,
  userChannel: (userId: string) => `fitstream:live:user:${userId}`,
};
