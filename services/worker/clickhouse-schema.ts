import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ident } from '../common/clickhouse-sql.js';

/**
 * The worker's ClickHouse DDL lives in infra/clickhouse/migrations/*_worker_*.sql, written against
 * the `fitstream` database that infra/clickhouse/migrate.ts applies. Tests, benches and `replay
 * --database` need the same tables in a database of their own: this re-targets the statements.
 * Only the DDL: a migration's data statements (e.g. 0011's back-fill of activity_announcements)
 * belong to the one-time run that infra/clickhouse/migrate.ts records; re-applied here on every
 * start they would, for instance, mark a stored-but-never-announced activity as announced.
 */
export const WORKER_MIGRATIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'infra',
  'clickhouse',
  'migrations',
);

export interface CommandClient {
  command(params: { query: string }): Promise<unknown>;
}

/** DDL statements of the worker's migration files with `fitstream.` re-pointed at `database`. */
export function workerSchemaStatements(database: string): string[] {
  const db = ident(database);
  const files = readdirSync(WORKER_MIGRATIONS_DIR)
    .filter((f) => /^\d{4,}_worker_.*\.sql$/.test(f))
    .sort();
  const out: string[] = [`CREATE DATABASE IF NOT EXISTS ${db}`];
  for (const f of files) {
    const text = readFileSync(join(WORKER_MIGRATIONS_DIR, f), 'utf8');
    const body = text
      .split('\n')
      .filter((l) => !/^\s*--/.test(l))
      .join('\n');
    for (const stmt of body.split(/;\s*$/m)) {
      const s = stmt.trim();
      if (s && !/^INSERT\b/i.test(s)) out.push(s.replace(/\bfitstream\./g, `${db}.`));
    }
  }
  return out;
}

export async function applyWorkerSchema(client: CommandClient, database: string): Promise<void> {
  for (const query of workerSchemaStatements(database)) await client.command({ query });
}
