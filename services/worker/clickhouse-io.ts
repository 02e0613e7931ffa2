import type { ClickHouseClient } from '@clickhouse/client';
import { ident } from '../common/clickhouse-sql.js';
import { isClickHouseRetryable, SinkRejectedError, SinkUnavailableError } from './errors.js';
import type { RowBinaryWriter } from './rowbinary.js';

/**
 * The worker's requests to one ClickHouse database, every failure turned into a typed error at this
 * boundary: SinkUnavailableError when the same request may succeed later (isClickHouseRetryable),
 * SinkRejectedError when the server refused it. The samples sink (sink-clickhouse.ts) and the session
 * store (store-clickhouse.ts) both go through it.
 */
export class ClickHouseTables {
  private readonly db: string;

  /**
   * @param insertFormat samples and streams inserts: RowBinary (default; measured cheaper on both
   *   sides) or JSONEachRow, for clients that cannot send a binary body (chdb's connection adapter).
   */
  constructor(
    readonly client: ClickHouseClient,
    database: string,
    readonly insertFormat: 'RowBinary' | 'JSONEachRow' = 'RowBinary',
  ) {
    this.db = ident(database);
  }

  /** The qualified name of one of the worker's tables. */
  t(table: string): string {
    return `${this.db}.${ident(table)}`;
  }

  async run<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (isClickHouseRetryable(err)) throw new SinkUnavailableError(`clickhouse ${what}`, err);
      throw new SinkRejectedError(`clickhouse ${what}`, err);
    }
  }

  /** One JSONEachRow insert (nothing sent for no rows). */
  insert(table: string, values: Record<string, unknown>[]): Promise<void> {
    if (values.length === 0) return Promise.resolve();
    return this.run(`insert ${table}`, async () => {
      await this.client.insert({ table: this.t(table), values, format: 'JSONEachRow' });
    });
  }

  /** A RowBinary insert (exec with a body stream; the response is drained). */
  insertRowBinary(table: string, columns: readonly string[], w: RowBinaryWriter): Promise<void> {
    return this.run(`insert ${table}`, async () => {
      const r = await this.client.exec({
        query: `INSERT INTO ${this.t(table)} (${columns.join(', ')}) FORMAT RowBinary`,
        values: w.stream(),
      });
      for await (const _ of r.stream) {
        // drain
      }
    });
  }

  async select<T>(what: string, query: string): Promise<T[]> {
    return this.run(what, async () => {
      const rs = await this.client.query({ query, format: 'JSONEachRow' });
      return rs.json<T>();
    });
  }

  /** Rows as arrays in column order (JSONCompact). */
  async selectCompact(what: string, query: string): Promise<unknown[][]> {
    return this.run(what, async () => {
      const rs = await this.client.query({ query, format: 'JSONCompact' });
      return (await rs.json<unknown[]>()).data;
    });
  }

  async ping(): Promise<void> {
    const r = await this.client.ping();
    if (!r.success) throw new SinkUnavailableError('clickhouse ping', r.error);
  }
}
