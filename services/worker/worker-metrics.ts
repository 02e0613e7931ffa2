import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';

/** The worker's Prometheus metrics (`fitstream_worker_*`); registered in `registry` when given. */
export function createWorkerMetrics(registry?: Registry) {
  const registers = registry ? [registry] : [];
  return {
    records: new Counter({
      name: 'fitstream_worker_records_total',
      help: 'Kafka records consumed',
      registers,
    }),
    samples: new Counter({
      name: 'fitstream_worker_samples_total',
      help: 'samples consumed (before dedupe)',
      registers,
    }),
    dlq: new Counter({
      name: 'fitstream_worker_dlq_records_total',
      help: 'records sent to the DLQ',
      labelNames: ['reason'],
      registers,
    }),
    flushSeconds: new Histogram({
      name: 'fitstream_worker_flush_duration_seconds',
      help: 'time from flush start to every sink acknowledging and its due sessions finalised',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    sinkRetries: new Counter({
      name: 'fitstream_worker_sink_retries_total',
      help: 'sink writes retried after a failure',
      labelNames: ['sink', 'code'],
      registers,
    }),
    finalised: new Counter({
      name: 'fitstream_worker_activities_finalised_total',
      help: 'finalisations by outcome (created, updated, unchanged, empty)',
      labelNames: ['outcome'],
      registers,
    }),
    lag: new Histogram({
      name: 'fitstream_worker_end_to_end_lag_seconds',
      help: 'Kafka record timestamp to every sink acknowledging it (per record)',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    openSessions: new Gauge({
      name: 'fitstream_worker_open_sessions',
      help: 'sessions awaiting finalisation on this worker',
      registers,
    }),
    finaliseInputs: new Counter({
      name: 'fitstream_worker_finalise_inputs_total',
      help: 'finalised sessions by where their input came from (memory: in-memory image; clickhouse: read back)',
      labelNames: ['source'],
      registers,
    }),
    imageBytes: new Gauge({
      name: 'fitstream_worker_session_image_bytes',
      help: 'bytes held by in-memory session images (WORKER_FINALISE_MEMORY_MB bounds it)',
      registers,
    }),
    deletedRecords: new Counter({
      name: 'fitstream_worker_deleted_activity_records_total',
      help: 'records dropped because their activity was deleted (late data for a deleted activity)',
      registers,
    }),
    livePublishSeconds: new Histogram({
      name: 'fitstream_worker_live_publish_seconds',
      help: 'one push of the changed live snapshots to the live store (every WORKER_LIVE_INTERVAL_MS, apart from the flush)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    liveBytes: new Gauge({
      name: 'fitstream_worker_live_state_bytes',
      help: 'bytes held for the live state of sessions in progress (about one reorder window of samples each)',
      registers,
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
