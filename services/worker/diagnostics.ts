import { channel } from 'node:diagnostics_channel';
import type { FinaliseOutcome } from './finalise.js';
import type { Sessions } from './sessions.js';
import type { FlushStats, Worker } from './worker.js';

// The worker's tracing points (`node:diagnostics_channel`): its metrics, the benches and the tests
// subscribe to them instead of setting hooks on the objects. Each message names the object that
// published it, since several workers may share a process (the rebalance test, the in-process bench).
// Publishers skip building a message when nobody subscribed (`hasSubscribers`).

/** After a flush job is durable and its due sessions are finalised, before its offsets are committed. */
export const flushedChannel = channel('fitstream:worker:flushed');
export interface FlushedMessage {
  worker: Worker;
  stats: FlushStats;
}

/** After each finalisation round: every session's outcome, in the round's order. */
export const finalisedChannel = channel('fitstream:worker:finalised');
export interface FinalisedMessage {
  sessions: Sessions;
  outcomes: readonly FinaliseOutcome[];
}

/** Before a finalisation round reads its input: how many sessions come from memory, how many from ClickHouse. */
export const finaliseInputsChannel = channel('fitstream:worker:finalise-inputs');
export interface FinaliseInputsMessage {
  sessions: Sessions;
  memory: number;
  clickhouse: number;
}

/** Subscribes `f` to `ch` (messages of type M) and returns the unsubscribe. */
export function subscribe<M>(ch: ReturnType<typeof channel>, f: (m: M) => void): () => void {
  const h = (m: unknown) => f(m as M);
  ch.subscribe(h);
  return () => ch.unsubscribe(h);
}
