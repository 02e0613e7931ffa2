/**
 * Redis keys of the live-session contract: the worker writes them (services/worker/store-redis.ts),
 * the API reads them (services/api/routes/live.ts); documented in docs/analytics.md. A store contract
 * between two services, so it lives in schemas/ beside the Kafka contracts.
 *
 * A live session is keyed by its activity id (pipelines' `activityIdFor(userId, deviceId, sessionId)`, a
 * UUIDv5), never by the device's client session id alone: clients pick that one freely ("1", a
 * timestamp), so two athletes can share it, and keying by it let one overwrite the other's live view.
 * The id a coach watches is also the id of the activity the athlete gets when the session ends.
 * - hash `fitstream:live:{activityId}`: the latest live snapshot, one field per property
 *   (numbers as decimal strings, null as '');
 * - sorted set `fitstream:live:active:{userId}`: activityIds in progress, score = latest device ts;
 * - pub/sub: the snapshot as JSON on `fitstream:live:session:{activityId}` and `fitstream:live:user:{userId}`.
 */
export const liveKeys = {
  hash: (activityId: string) => `fitstream:live:${activityId}`,
  active: (userId: string) => `fitstream:live:active:${userId}`,
  sessionChannel: (activityId: string) => `fitstream:live:session:${activityId}`,
  userChannel: (userId: string) => `fitstream:live:user:${userId}`,
};
