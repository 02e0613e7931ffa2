import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { avroTypes } from '../../schemas/avro.js';
import { SchemaError } from '../../schemas/errors.js';
import { schemaIdsOnce } from '../../schemas/registry.js';
import { ConfluentDecoder, type DecodedRecord, encodeConfluent } from '../../schemas/wire.js';
import { EngagementError } from './errors.js';
import type { FactRecord } from './model.js';
import type { ActivityEventIn } from './store-postgres.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Confluent wire format through the schema registry: activity events in, goals.v1 facts out. A record
 * that cannot be read as an activity event throws `event_invalid` (skipped and counted); an
 * unreachable registry throws the retryable SchemaError so the caller waits instead.
 */
export interface EngagementCodec {
  decodeActivity(value: Buffer | null): Promise<{ record: string; event: ActivityEventIn }>;
  encodeFact(record: FactRecord, payload: unknown): Promise<Buffer>;
}

export function createEngagementCodec(registryUrl: string): EngagementCodec {
  const registry = new SchemaRegistry({ host: registryUrl });
  const decoder = new ConfluentDecoder(registry);
  const idsOnce = schemaIdsOnce(registry);
  return {
    async decodeActivity(value) {
      if (!value) throw new EngagementError('event_invalid', 'record has no value');
      let d: DecodedRecord;
      try {
        d = decoder.decodeCached(value) ?? (await decoder.decode(value));
      } catch (err) {
        if (err instanceof SchemaError && err.retryable) throw err;
        throw new EngagementError('event_invalid', (err as Error).message, { cause: err });
      }
      return { record: d.name, event: activityEvent(d) };
    },
    async encodeFact(record, payload) {
      const id = (await idsOnce())[record];
      return encodeConfluent(id, avroTypes[record] as never, payload as never);
    },
  };
}

function calories(summaryJson: string): number {
  try {
    const v = (JSON.parse(summaryJson) as { calories?: unknown }).calories;
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
  } catch {
    return 0;
  }
}

/** What the read model keeps of an activity event; throws `event_invalid` for anything else. */
export function activityEvent(d: DecodedRecord): ActivityEventIn {
  if (d.name === 'ActivityDeleted') {
    const v = d.value;
    if (!UUID.test(v.userId)) throw new EngagementError('event_invalid', `userId ${v.userId} is not a UUID`);
    return { activityId: v.activityId, userId: v.userId, version: v.version, deleted: true, facts: null };
  }
  if (d.name !== 'ActivityCreated' && d.name !== 'ActivityUpdated') {
    throw new EngagementError('event_invalid', `unexpected record ${d.name} on the activities topic`);
  }
  const v = d.value;
  if (!UUID.test(v.userId)) throw new EngagementError('event_invalid', `userId ${v.userId} is not a UUID`);
  if (!v.activityId) throw new EngagementError('event_invalid', 'activityId is empty');
  return {
    activityId: v.activityId,
    userId: v.userId,
    version: v.version,
    deleted: false,
    facts: {
      sport: v.sport,
      startTs: v.startTs,
      distanceM: Number.isFinite(v.distanceM) ? Math.max(0, v.distanceM) : 0,
      movingS: Number.isFinite(v.movingS) ? Math.max(0, v.movingS) : 0,
      elevationM:
        v.elevationGainM !== null && Number.isFinite(v.elevationGainM) ? Math.max(0, v.elevationGainM) : 0,
      calories: calories(v.summaryJson),
    },
  };
}
