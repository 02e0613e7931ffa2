import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Counts that the ingest path adds per message as plain numbers: five prom-client `inc()` calls per message
 * (label hashing, exemplar checks) were ~1.5 % of the gateway's CPU. Each counter below moves its share in
 * when it is collected (every scrape, every `get()`), so what Prometheus reads is exact.
 */
export interface HotCounts {
  inTelemetry: number;
  inSession: number;
  inOther: number;
  bytesIn: number;
  samplesIn: number;
  outSamples: number;
  outDlq: number;
  samplesOut: number;
}

/**
 * The gateway's Prometheus metrics. Rates ("per second") are `rate()` over the counters.
 * Names follow fitstream_gateway_<thing>_<unit>.
 */
export function createGatewayMetrics(registry: Registry, probes: { backlogBytes?: () => number } = {}) {
  const registers = [registry];
  const hot: HotCounts = {
    inTelemetry: 0,
    inSession: 0,
    inOther: 0,
    bytesIn: 0,
    samplesIn: 0,
    outSamples: 0,
    outDlq: 0,
    samplesOut: 0,
  };
  const take = (k: keyof HotCounts): number => {
    const n = hot[k];
    hot[k] = 0;
    return n;
  };
  return {
    hot,
    connections: new Gauge({
      name: 'fitstream_gateway_connections',
      help: 'MQTT connections currently authenticated',
      registers,
    }),
    connects: new Counter({
      name: 'fitstream_gateway_connects_total',
      help: 'CONNECT attempts by result (ok, bad_credentials, unavailable, bad_client_id, shutting_down)',
      labelNames: ['result'] as const,
      registers,
    }),
    messagesIn: new Counter({
      name: 'fitstream_gateway_messages_in_total',
      help: 'MQTT PUBLISH messages received from devices, by kind (telemetry, session, other)',
      labelNames: ['kind'] as const,
      registers,
      collect() {
        if (hot.inTelemetry > 0) this.inc({ kind: 'telemetry' }, take('inTelemetry'));
        if (hot.inSession > 0) this.inc({ kind: 'session' }, take('inSession'));
        if (hot.inOther > 0) this.inc({ kind: 'other' }, take('inOther'));
      },
    }),
    bytesIn: new Counter({
      name: 'fitstream_gateway_payload_bytes_in_total',
      help: 'payload bytes of received messages',
      registers,
      collect() {
        if (hot.bytesIn > 0) this.inc(take('bytesIn'));
      },
    }),
    samplesIn: new Counter({
      name: 'fitstream_gateway_samples_in_total',
      help: 'samples in accepted telemetry messages',
      registers,
      collect() {
        if (hot.samplesIn > 0) this.inc(take('samplesIn'));
      },
    }),
    messagesOut: new Counter({
      name: 'fitstream_gateway_messages_out_total',
      help: 'records acknowledged by Kafka, by topic kind (samples, dlq)',
      labelNames: ['topic'] as const,
      registers,
      collect() {
        if (hot.outSamples > 0) this.inc({ topic: 'samples' }, take('outSamples'));
        if (hot.outDlq > 0) this.inc({ topic: 'dlq' }, take('outDlq'));
      },
    }),
    samplesOut: new Counter({
      name: 'fitstream_gateway_samples_out_total',
      help: 'samples in records acknowledged by Kafka',
      registers,
      collect() {
        if (hot.samplesOut > 0) this.inc(take('samplesOut'));
      },
    }),
    dlq: new Counter({
      name: 'fitstream_gateway_dlq_messages_total',
      help: 'messages sent to the DLQ, by reason code',
      labelNames: ['reason'] as const,
      registers,
    }),
    refused: new Counter({
      name: 'fitstream_gateway_refused_total',
      help: 'publishes/subscribes refused at the broker (connection closed for publishes), by code',
      labelNames: ['code'] as const,
      registers,
    }),
    batchRecords: new Histogram({
      name: 'fitstream_gateway_batch_records',
      help: 'records per Kafka produce call',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
      registers,
    }),
    batchBytes: new Histogram({
      name: 'fitstream_gateway_batch_bytes',
      help: 'bytes per Kafka produce call',
      buckets: [1e3, 4e3, 16e3, 64e3, 256e3, 1e6, 4e6],
      registers,
    }),
    produceLatency: new Histogram({
      name: 'fitstream_gateway_produce_latency_seconds',
      help: 'Kafka produce call duration (acks=all), successful attempts',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    }),
    ackLatency: new Histogram({
      name: 'fitstream_gateway_ack_latency_seconds',
      help: 'message received -> Kafka acknowledged (what a QoS 1 publisher waits for its PUBACK)',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    produceRetries: new Counter({
      name: 'fitstream_gateway_produce_retries_total',
      help: 'failed Kafka produce attempts (the batch is retried)',
      registers,
    }),
    backlogBytes: new Gauge({
      name: 'fitstream_gateway_backlog_bytes',
      help: 'bytes waiting for a Kafka acknowledgement',
      registers,
      collect() {
        this.set(probes.backlogBytes?.() ?? 0);
      },
    }),
    backpressureActive: new Gauge({
      name: 'fitstream_gateway_backpressure_active',
      help: '1 while the gateway stops reading sockets because Kafka is behind',
      registers,
    }),
    backpressureSeconds: new Counter({
      name: 'fitstream_gateway_backpressure_seconds_total',
      help: 'time spent with back-pressure on',
      registers,
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
