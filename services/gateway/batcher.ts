import { ShuttingDownError } from './errors.js';

/** One Kafka record: one MQTT message (or one DLQ entry). */
export interface OutRecord {
  topic: string;
  key: string;
  value: Buffer;
}

/** Sends a batch; resolves only once Kafka acknowledged every record in it (acks=all). */
export type SendBatch = (records: readonly OutRecord[]) => Promise<void>;

export interface BatcherObserver {
  /** a batch was acknowledged */
  flushed?(records: number, bytes: number, latencyMs: number): void;
  /** a send failed and will be retried after `delayMs` */
  retrying?(err: unknown, attempt: number, delayMs: number): void;
  /** back-pressure switched on (true) or off (false) */
  backpressure?(on: boolean): void;
}

export interface BatcherOptions {
  send: SendBatch;
  /** how long the first record of a batch waits for company */
  windowMs: number;
  /** a batch is sent as soon as it reaches this many bytes */
  maxBytes: number;
  /** above this many pending bytes nothing new is admitted ... */
  highBytes: number;
  /** ... until the backlog is below this */
  lowBytes: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  observer?: BatcherObserver;
}

/** Called once with null when Kafka acknowledged the record, or with the error that refused it. */
export type AckCallback = (err: Error | null) => void;

interface Pending {
  records: OutRecord[];
  waiters: AckCallback[];
  bytes: number;
}

/** Overhead Kafka adds per record (offsets, lengths, headers); counts toward maxBytes. */
const RECORD_OVERHEAD = 64;

export function recordBytes(r: OutRecord): number {
  return r.value.length + r.key.length + RECORD_OVERHEAD;
}

/**
 * Coalesces the records of all connections into one produce call: the first record waits at most
 * `windowMs` when Kafka is idle; while a produce call is in flight, everything that arrives joins the next
 * one (up to `maxBytes`). One batch is sent at a time (so records of a session keep their order, also across
 * retries), and retries a failed batch forever with
 * capped exponential backoff: a record whose promise resolved is in Kafka; a record whose promise has not
 * resolved was never acknowledged to anyone. Memory is bounded by the admission gate: callers wait on
 * `admission()` before `add()`, and while the pending bytes exceed `highBytes` that wait lasts until they
 * fall below `lowBytes`. The wait is what stops socket reads upstream.
 */
export class Batcher {
  private open: Pending = newPending();
  private readonly ready: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private pendingBytes = 0;
  private blocked = false;
  private gateWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private closing = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;

  constructor(private readonly opts: BatcherOptions) {
    this.retryInitialMs = opts.retryInitialMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 5_000;
  }

  /** Bytes added but not yet acknowledged by Kafka. */
  get backlogBytes(): number {
    return this.pendingBytes;
  }

  get isBackpressured(): boolean {
    return this.blocked;
  }

  /**
   * null when a new record may be added now (the fast path allocates nothing); otherwise a promise that
   * resolves when it may, or rejects with ShuttingDownError once the batcher is closing.
   */
  admission(): Promise<void> | null {
    if (this.closing) return Promise.reject(new ShuttingDownError('gateway is shutting down'));
    if (!this.blocked) return null;
    return new Promise((resolve, reject) => this.gateWaiters.push({ resolve, reject }));
  }

  /** Add a record; resolves once Kafka acknowledged it. */
  add(record: OutRecord): Promise<void> {
    return new Promise((resolve, reject) =>
      this.addWithCallback(record, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * `add` without a promise (the gateway's hot path: a promise and its continuation per message showed in
   * the profile). `done` runs once: with null when Kafka acknowledged the record (synchronously from the
   * loop that settles the batch, in record order), or with ShuttingDownError at once when the batcher is
   * closed.
   */
  addWithCallback(record: OutRecord, done: AckCallback): void {
    if (this.closed) {
      done(new ShuttingDownError('gateway is shut down'));
      return;
    }
    const bytes = recordBytes(record);
    if (this.open.records.length > 0 && this.open.bytes + bytes > this.opts.maxBytes) this.seal();
    this.open.records.push(record);
    this.open.waiters.push(done);
    this.open.bytes += bytes;
    this.pendingBytes += bytes;
    if (!this.blocked && this.pendingBytes > this.opts.highBytes) {
      this.blocked = true;
      this.opts.observer?.backpressure?.(true);
    }
    if (this.open.bytes >= this.opts.maxBytes) this.seal();
    else if (this.timer === null && !this.sending)
      this.timer = setTimeout(this.sealOnTimer, this.opts.windowMs);
  }

  private readonly sealOnTimer = (): void => this.seal();

  /**
   * Stop admitting, send what is buffered, and wait until everything added so far is acknowledged. Waiters
   * at the gate are rejected with ShuttingDownError (their messages were never acknowledged).
   */
  async close(): Promise<void> {
    this.closing = true;
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const w of waiters) w.reject(new ShuttingDownError('gateway is shutting down'));
    if (this.open.records.length > 0) this.seal();
    await this.idle();
    this.closed = true;
  }

  /** Resolves when nothing is buffered or in flight. */
  idle(): Promise<void> {
    if (this.pendingBytes === 0 && !this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private seal(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.open.records.length === 0) return;
    this.ready.push(this.open);
    this.open = newPending();
    if (!this.sending) void this.pump();
  }

  private async pump(): Promise<void> {
    this.sending = true;
    try {
      for (;;) {
        let batch = this.ready.shift();
        // While a send was in flight, records gathered in the open batch without a timer: send them now,
        // in one produce call. Under load this makes the batch as large as the produce round trip allows
        // (adaptive, like Nagle), instead of a queue of window-sized batches sent one after the other.
        if (batch === undefined && this.open.records.length > 0) {
          batch = this.open;
          this.open = newPending();
        }
        if (batch === undefined) break;
        await this.sendUntilAcked(batch);
        this.pendingBytes -= batch.bytes;
        settle(batch.waiters);
        if (this.blocked && this.pendingBytes < this.opts.lowBytes) this.unblock();
      }
    } finally {
      this.sending = false;
    }
    if (this.pendingBytes === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of idle) r();
    }
  }

  private unblock(): void {
    this.blocked = false;
    this.opts.observer?.backpressure?.(false);
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private async sendUntilAcked(batch: Pending): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const t0 = performance.now();
      try {
        await this.opts.send(batch.records);
        this.opts.observer?.flushed?.(batch.records.length, batch.bytes, performance.now() - t0);
        return;
      } catch (err) {
        const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(attempt - 1, 16));
        this.opts.observer?.retrying?.(err, attempt, delay);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}

/**
 * Runs every acknowledgement callback even when one throws (the rest must still get their PUBACK); a throw
 * is rethrown on its own, as an uncaught error, like a throwing promise continuation would be.
 */
function settle(waiters: AckCallback[]): void {
  for (const w of waiters) {
    try {
      w(null);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}

function newPending(): Pending {
  return { records: [], waiters: [], bytes: 0 };
}
