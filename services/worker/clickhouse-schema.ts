import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ident, str } from '../common/clickhouse-sql.js';

/**
 * The worker's ClickHouse DDL lives in infra/clickhouse/migrations/*_worker_*.sql, written against
 * the `fitstream` database that infra/clickhouse/migrate.ts applies. Tests, benches and `replay
 * --database` need the same tables in a database of their own: this re-targets the statements.
 * Only the DDL: a migration's data statements (e.g. 0011's back-fill of activity_announcements)
 * belong to the one-time run that infra/clickhouse/migrate.ts records; re-applied here they would,
 * for instance, mark a stored-but-never-announced activity as announced. Each file is applied once
 * per database (recorded in its `worker_schema_files`), since some DDL runs only once: 0021 renames
 * `samples` (18.16 has no conditional DDL). `owner` picks the files: the worker's (`*_worker_*.sql`) or the
 * API's (`*_api_*.sql`: activity_points), which the API's tests and benches need beside the worker's.
 */
export const WORKER_MIGRATIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'infra',
  'clickhouse',
  'migrations',
);

export interface SchemaClient {
  command(params: { query: string }): Promise<unknown>;
  query(params: { query: string; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
}

export type SchemaOwner = 'worker' | 'api';

function workerFiles(owner: SchemaOwner = 'worker'): string[] {
  const pattern = new RegExp(`^\\d{4,}_${owner}_.*\\.sql$`);
  return readdirSync(WORKER_MIGRATIONS_DIR)
    .filter((f) => pattern.test(f))
    .sort();
}

/** DDL statements of one worker migration file with `fitstream.` re-pointed at `database`. */
function fileStatements(file: string, database: string): string[] {
  const db = ident(database);
  const text = readFileSync(join(WORKER_MIGRATIONS_DIR, file), 'utf8');
  const body = text
    .split('\n')
    .filter((l) => !/^\s*--/.test(l))
    .join('\n');
  const out: string[] = [];
  for (const stmt of body.split(/;\s*$/m)) {
    const s = stmt.trim();
    if (s && !/^INSERT\b/i.test(s)) out.push(s.replace(/\bfitstream\./g, `${db}.`));
  }
  return out;
}

/** DDL statements of the worker's migration files with `fitstream.` re-pointed at `database`. */
export function workerSchemaStatements(database: string): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${ident(database)}`,
    ...workerFiles().flatMap((f) => fileStatements(f, database)),
  ];
}

/** Applies the worker's DDL to `database`, each migration file once (recorded in `worker_schema_files`). */
export async function applyWorkerSchema(
  client: SchemaClient,
  database: string,
  owner: SchemaOwner = 'worker',
): Promise<void> {
  const db = ident(database);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.worker_schema_files (file String) ENGINE = MergeTree ORDER BY file`,
  });
  const rs = await client.query({
    query: `SELECT file FROM ${db}.worker_schema_files`,
    format: 'JSONEachRow',
  });
  const applied = new Set((await rs.json<{ file: string }>()).map((r) => r.file));
  for (const f of workerFiles(owner)) {
    if (applied.has(f)) continue;
    for (const query of fileStatements(f, database)) await client.command({ query });
    await client.command({ query: `INSERT INTO ${db}.worker_schema_files (file) VALUES (${str(f)})` });
  }
}
