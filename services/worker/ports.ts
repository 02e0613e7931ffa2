import type { InboundRecord, RawRecord } from './records.js';

/** What one flush hands to every sink: all raw records (archive) and the ones that decoded. */
export interface FlushBatch {
  raw: readonly RawRecord[];
  records: readonly InboundRecord[];
}

/**
 * A sink acknowledges a batch by resolving. It must be idempotent: the same batch (or an
 * overlapping one, after a crash or rebalance) written again leaves the same readable result.
 * It throws SinkUnavailableError when a retry may help, SinkRejectedError when it will not.
 */
export interface Sink {
  readonly name: string;
  /**
   * true: a SinkRejectedError may be caused by some of the batch's records only (a value the
   * server refuses). The worker then writes the batch in halves, recursively, dead-letters the
   * single records that are still rejected (`sink_rejected`) and carries on with the rest. A sink
   * that sets it must read nothing but `records` of a batch.
   */
  readonly isolatesRejections?: boolean;
  writeBatch(batch: FlushBatch): Promise<void>;
  close(): Promise<void>;
}
