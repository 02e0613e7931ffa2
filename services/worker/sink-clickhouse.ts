import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseTables } from './clickhouse-io.js';
import {
  controlRow,
  manualEntryRow,
  SAMPLE_COLUMNS,
  sessionIndexRow,
  strengthSetRow,
  writeRawSamples,
} from './clickhouse-rows.js';
import type { FlushBatch, Sink } from './ports.js';
import { sessionKey, sessionOf } from './records.js';
import { JsonRowWriter, RowBinaryWriter, type RowWriter } from './rowbinary.js';

/**
 * The ClickHouse sink: each flush's raw rows on arrival — `samples` (once per sample, as received),
 * `session_controls`, `strength_sets`, `manual_entries` and one `session_index` row per session — one insert per table
 * per flush. Every table is a ReplacingMergeTree on the record identity, so a batch written again
 * reads back the same. What finalisation reads and writes is the session store (store-clickhouse.ts).
 */
export class ClickHouseSink implements Sink {
  readonly name = 'clickhouse';
  /** a rejected insert may be caused by some records only: the worker splits the batch to find them */
  readonly isolatesRejections = true;
  readonly tables: ClickHouseTables;

  /** @param insertFormat see ClickHouseTables */
  constructor(client: ClickHouseClient, database: string, insertFormat?: 'RowBinary' | 'JSONEachRow') {
    this.tables = new ClickHouseTables(client, database, insertFormat);
  }

  /** `rows`: how many rows will be written, to size the buffer once (a samples row is ~90 bytes). */
  private sampleWriter(rows = 0): RowWriter {
    return this.tables.insertFormat === 'RowBinary'
      ? new RowBinaryWriter(Math.max(1 << 16, rows * 128))
      : new JsonRowWriter(SAMPLE_COLUMNS);
  }

  private insertSamples(w: RowWriter): Promise<void> {
    if (w.rows === 0) return Promise.resolve();
    if (w instanceof JsonRowWriter) return this.tables.insert('samples', w.objects());
    if (!(w instanceof RowBinaryWriter)) throw new Error('unknown row writer');
    return this.tables.insertRowBinary('samples', SAMPLE_COLUMNS, w);
  }

  ping(): Promise<void> {
    return this.tables.ping();
  }

  async writeBatch(batch: FlushBatch): Promise<void> {
    let rows = 0;
    for (const r of batch.records) if (r.decoded.kind === 'batch') rows += r.decoded.batch.samples.length;
    const samples = this.sampleWriter(rows);
    const controls: Record<string, unknown>[] = [];
    const sets: Record<string, unknown>[] = [];
    const manual: Record<string, unknown>[] = [];
    const sessions = new Map<string, Record<string, unknown>>();
    const seenMs = Date.now();
    for (const r of batch.records) {
      const d = r.decoded;
      const s = sessionOf(d);
      const k = sessionKey(s.deviceId, s.sessionId);
      if (!sessions.has(k)) sessions.set(k, sessionIndexRow(s, r.raw.partition, seenMs));
      if (d.kind === 'batch') {
        const b = d.batch;
        writeRawSamples(samples, b);
        for (const x of b.sets) sets.push(strengthSetRow(b, x));
        if (b.manual) manual.push(manualEntryRow(b, b.manual));
      } else {
        controls.push(controlRow(d.control));
      }
    }
    await Promise.all([
      this.insertSamples(samples),
      this.tables.insert('session_controls', controls),
      this.tables.insert('strength_sets', sets),
      this.tables.insert('manual_entries', manual),
      this.tables.insert('session_index', [...sessions.values()]),
    ]);
  }

  /** Closes the client (the sink owns it in the worker; see app.ts). */
  async close(): Promise<void> {
    await this.tables.client.close();
  }
}
