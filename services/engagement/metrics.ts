import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The engagement service's metrics, `fitstream_engagement_<thing>_<unit>`. */
export function createEngagementMetrics(registry: Registry | undefined) {
  const registers = registry ? [registry] : [];
  return {
    eventsIn: new Counter({
      name: 'fitstream_engagement_events_in_total',
      help: 'activity events consumed, by outcome: applied, duplicate (redelivered, older or superseded in its batch), invalid',
      labelNames: ['outcome'] as const,
      registers,
    }),
    eventsOut: new Counter({
      name: 'fitstream_engagement_events_out_total',
      help: 'goals.v1 records published (committed in a Kafka transaction), by record',
      labelNames: ['record'] as const,
      registers,
    }),
    lag: new Gauge({
      name: 'fitstream_engagement_consumer_lag_records',
      help: 'records of activities.v1 behind the end of the log, per owned partition',
      labelNames: ['partition'] as const,
      registers,
    }),
    outboxDepth: new Gauge({
      name: 'fitstream_engagement_outbox_depth_rows',
      help: 'outbox rows not yet published',
      registers,
    }),
    leader: new Gauge({
      name: 'fitstream_engagement_outbox_leader',
      help: '1 while this replica holds the outbox publishing lease',
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'fitstream_engagement_batch_seconds',
      help: 'time to apply one batch of activity events (one PostgreSQL transaction)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
  };
}
export type EngagementMetrics = ReturnType<typeof createEngagementMetrics>;
