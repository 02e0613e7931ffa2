import type { SessionControl } from '../../schemas/types.js';
import { rawSampleVersion } from './activity-version.js';
import type { FlushBatch } from './ports.js';
import { sessionKey } from './records.js';
import {
  allocStored,
  appendRawSample,
  gatherStored,
  resizeStored,
  STORED_BYTES_PER_SAMPLE,
  type StoredSamples,
  sameStoredRow,
  storedKey,
} from './stored-samples.js';

/** Controls as session_controls stores them: (ts, kind) is the identity, sport the only other value read. */
export interface StoredControl {
  ts: number;
  kind: SessionControl['kind'];
  sport: string;
}

/** A session's durable input without strength sets or manual entries (sessions with them are always read back). */
export interface SessionImage {
  samples: StoredSamples;
  controls: StoredControl[];
}

interface Entry {
  /** null: read this session back from ClickHouse at finalisation */
  samples: StoredSamples | null;
  controls: Map<string, StoredControl>;
  partition: number;
  userId: string;
}

const INITIAL_ROWS = 128;

/**
 * Rows to allocate when an image holding `have` rows of capacity needs `need`: a quarter more each
 * time, so at most a quarter of an image is spare (a 10-minute session at 1 Hz holds 600 rows;
 * doubling from 1024 kept 1024, 1.7x what it needed). The copies this costs are ~4 per row.
 */
export function grownCapacity(have: number, need: number): number {
  return Math.max(INITIAL_ROWS, Math.ceil(have * 1.25), need);
}

/**
 * In-memory images of the durable input of the sessions this worker wrote from their very first
 * record, so finalisation can skip reading them back from ClickHouse.
 *
 * An image is exact only when this process wrote every durable row of the session itself; so a
 * session gets one only when `open` learns (before the flush that first carries it is written)
 * that ClickHouse has no row of it yet — every earlier durable row would have a `session_index` row,
 * written in the same flush and acknowledged before any commit — and it is appended only after
 * its flush is durable. Everything else is read back ("read-back mode"): a session first seen
 * after a restart or a rebalance (its rows may predate this process), late data for a finalised
 * session, a session whose partition this worker lost, one that arrives on two partitions or
 * under two user ids, one with strength sets, a resent identity whose stored values differ (the
 * table would keep either copy), a value ClickHouse would not read back as a number, and images
 * evicted to stay within `budgetBytes`. Images are dropped when their session is finalised.
 */
export class SessionImages {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  readonly stats = { evicted: 0 };

  constructor(private readonly budgetBytes: number) {}

  get enabled(): boolean {
    return this.budgetBytes > 0;
  }

  /** Bytes held by the images' columns (capacity, not just rows). */
  get bytesHeld(): number {
    return this.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  has(k: string): boolean {
    return this.entries.has(k);
  }

  /** Starts tracking a session; `image`: whether ClickHouse provably holds none of it yet. */
  open(k: string, partition: number, userId: string, image: boolean): void {
    if (this.entries.has(k)) return;
    this.entries.set(k, {
      samples: image && this.enabled ? allocStored(0) : null,
      controls: new Map(),
      partition,
      userId,
    });
  }

  private readBack(e: Entry): void {
    if (e.samples) this.bytes -= e.samples.ts.length * STORED_BYTES_PER_SAMPLE;
    e.samples = null;
    e.controls.clear();
  }

  /** Adds what a durable flush wrote (call after every sink acknowledged it, in flush order). */
  append(batch: FlushBatch): void {
    if (!this.enabled) return;
    for (const r of batch.records) {
      const d = r.decoded;
      const s = d.kind === 'batch' ? d.batch : d.control;
      const k = sessionKey(s.deviceId, s.sessionId);
      let e = this.entries.get(k);
      if (!e) {
        // not opened before this flush was written (or finalised meanwhile): read back
        e = { samples: null, controls: new Map(), partition: r.raw.partition, userId: s.userId };
        this.entries.set(k, e);
      }
      if (!e.samples) continue;
      if (e.partition !== r.raw.partition || e.userId !== s.userId) {
        this.readBack(e);
        continue;
      }
      if (d.kind === 'control') {
        const c = d.control;
        const id = `${c.ts}\u0000${c.kind}`;
        const had = e.controls.get(id);
        if (had && had.sport !== c.sport) this.readBack(e);
        else e.controls.set(id, { ts: c.ts, kind: c.kind, sport: c.sport });
        continue;
      }
      const b = d.batch;
      if (b.sets.length > 0 || b.manual) {
        this.readBack(e);
        continue;
      }
      let st = e.samples;
      const need = st.length + b.samples.length;
      if (need > st.ts.length) {
        const cap = grownCapacity(st.ts.length, need);
        this.bytes += (cap - st.ts.length) * STORED_BYTES_PER_SAMPLE;
        st = resizeStored(st, cap);
        e.samples = st;
      }
      let ok = true;
      for (const x of b.samples) ok = appendRawSample(st, st.length++, x) && ok;
      if (!ok) this.readBack(e);
    }
    this.evict();
  }

  /** Turns the oldest images into read-back mode until the rest fit in the budget. */
  private evict(): void {
    if (this.bytes <= this.budgetBytes) return;
    for (const e of this.entries.values()) {
      if (this.bytes <= this.budgetBytes) break;
      if (!e.samples) continue;
      this.readBack(e);
      this.stats.evicted++;
    }
  }

  /**
   * The session's durable input as ClickHouse's FINAL would return it, and stops tracking it; or
   * undefined when it must be read back.
   */
  take(k: string): SessionImage | undefined {
    const e = this.entries.get(k);
    if (!e) return undefined;
    this.entries.delete(k);
    if (!e.samples) return undefined;
    this.bytes -= e.samples.ts.length * STORED_BYTES_PER_SAMPLE;
    const samples = dedupeStored(e.samples);
    if (!samples) return undefined;
    const controls = [...e.controls.values()].sort(
      (a, b) => a.ts - b.ts || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0),
    );
    return { samples, controls };
  }

  /**
   * From now on this session is read back: some of its records in a flush were not written (a sink
   * rejected them), so an image appended from that flush would hold rows ClickHouse does not.
   */
  readBackOnly(k: string, partition: number, userId: string): void {
    if (!this.enabled) return;
    const e = this.entries.get(k);
    if (e) this.readBack(e);
    else this.entries.set(k, { samples: null, controls: new Map(), partition, userId });
  }

  /** Stops tracking a session without using it. */
  drop(k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    this.readBack(e);
    this.entries.delete(k);
  }

  /** After a rebalance: sessions of partitions no longer owned are forgotten (re-read if they return). */
  retain(partitions: ReadonlySet<number>): void {
    for (const [k, e] of this.entries) if (!partitions.has(e.partition)) this.drop(k);
  }
}

/**
 * One row per identity, ordered by (ts, identity), as `samples FINAL ... ORDER BY ts, sample_key`
 * returns them. Copies of an identity collapse only when they store identical values: copies
 * that differ (a resend with another device time lands in another row version, or even another
 * monthly partition that FINAL does not merge across) give undefined, i.e. read back.
 */
export function dedupeStored(s: StoredSamples): StoredSamples | undefined {
  const n = s.length;
  // the usual case, samples arriving once and in order: already one row per identity, in
  // (ts, identity) order — use the rows as they are
  let ordered = true;
  for (let i = 1; i < n && ordered; i++) {
    ordered = s.ts[i - 1]! < s.ts[i]! && storedKey(s, i - 1) < storedKey(s, i);
  }
  if (ordered) return s;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const key = new Float64Array(n);
  for (let i = 0; i < n; i++) key[i] = storedKey(s, i);
  // by identity (then index, for a stable check of copies)
  idx.sort((a, b) => key[a]! - key[b]! || a - b);
  const keep: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    const prev = keep.length > 0 ? keep[keep.length - 1]! : -1;
    if (prev >= 0 && key[prev] === key[i]) {
      if (!sameStoredRow(s, prev, i) || rawSampleVersion(s.ts[prev]!) !== rawSampleVersion(s.ts[i]!)) {
        return undefined;
      }
      continue;
    }
    keep.push(i);
  }
  keep.sort((a, b) => s.ts[a]! - s.ts[b]! || key[a]! - key[b]!);
  return gatherStored(s, keep);
}
