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
  writeBatch(batch: FlushBatch): Promise<void>;
  close(): Promise<void>;
}
