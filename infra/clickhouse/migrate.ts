// ClickHouse schema migrations: the smallest runner that works on ClickHouse 18.16 (Debian)
// AND current ClickHouse (docker-compose, chdb).
//
// Why not the npm package `clickhouse-migrations`: it checks for the database with a
// server-side query parameter (`{db_name:String}`), which 18.16 does not have, and its
// bookkeeping table uses UUID/generateUUIDv4 defaults; so it cannot run on the Debian server.
//
// How it works:
// - migrations are the files infra/clickhouse/migrations/NNNN_name.sql, applied in
//   file-name order; adding a file is all it takes;
// - a file holds one or more statements, each ending with `;` at the end of a line;
//   `--` line comments are dropped (no `;` at a line end inside string literals, please);
// - `default.schema_migrations` records version (file name), sha256 checksum and time; an
//   applied file whose checksum changed is an error (add a new file instead);
// - statements are not transactional on ClickHouse: write them re-runnable
//   (CREATE ... IF NOT EXISTS, ALTER ... ADD COLUMN IF NOT EXISTS on new servers, etc.).
//
// CLI:   npx tsx infra/clickhouse/migrate.ts [--url http://127.0.0.1:8123] [--dir <dir>]
//        env CLICKHOUSE_URL, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD.
// API:   runMigrations(client, { dir }) with any @clickhouse/client client (HTTP or chdb).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@clickhouse/client';

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
export const MIGRATIONS_TABLE = 'default.schema_migrations';
const FILE_RE = /^\d{4,}_[A-Za-z0-9_.-]+\.sql$/;

/** The subset of @clickhouse/client that the runner uses (so chdb-backed clients fit too). */
export interface MigrationClient {
  command(params: { query: string }): Promise<unknown>;
  query(params: { query: string; format: 'JSONEachRow' }): Promise<{ json<T>(): Promise<T[]> }>;
}

export interface Migration {
  version: string;
  checksum: string;
  statements: string[];
}

/** Splits a migration file into statements (`;` at end of line), dropping `--` comments. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const raw of sql.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (/^\s*--/.test(line)) continue;
    current.push(line);
    if (line.endsWith(';')) {
      const stmt = current.join('\n').trim().replace(/;$/, '').trim();
      if (stmt) out.push(stmt);
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) out.push(rest);
  return out;
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      if (!FILE_RE.test(file)) throw new Error(`bad migration file name ${file} (want NNNN_name.sql)`);
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        version: file,
        checksum: createHash('sha256').update(text).digest('hex'),
        statements: splitStatements(text),
      };
    });
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Applies pending migrations; returns the versions applied now. */
export async function runMigrations(
  client: MigrationClient,
  opts: { dir?: string; log?: (msg: string) => void } = {},
): Promise<string[]> {
  const log = opts.log ?? (() => {});
  // Plain MergeTree with the new-style syntax: supported by 18.16 and current versions.
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      version String,
      checksum String,
      applied_at DateTime
    ) ENGINE = MergeTree ORDER BY version`,
  });
  const rows = await (
    await client.query({ query: `SELECT version, checksum FROM ${MIGRATIONS_TABLE}`, format: 'JSONEachRow' })
  ).json<{ version: string; checksum: string }>();
  const applied = new Map(rows.map((r) => [r.version, r.checksum]));
  const done: string[] = [];
  for (const m of loadMigrations(opts.dir)) {
    const seen = applied.get(m.version);
    if (seen !== undefined) {
      if (seen !== m.checksum) {
        throw new Error(`migration ${m.version} was changed after it was applied (add a new file instead)`);
      }
      continue;
    }
    for (const [i, stmt] of m.statements.entries()) {
      try {
        await client.command({ query: stmt });
      } catch (err) {
        throw new Error(`migration ${m.version}, statement ${i + 1} failed: ${(err as Error).message}`);
      }
    }
    await client.command({
      query: `INSERT INTO ${MIGRATIONS_TABLE} (version, checksum, applied_at) VALUES (${quote(m.version)}, ${quote(m.checksum)}, now())`,
    });
    log(`applied ${m.version}`);
    done.push(m.version);
  }
  return done;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const url = arg('--url') ?? process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
  const dir = resolve(arg('--dir') ?? MIGRATIONS_DIR);
  const client = createClient({
    url,
    username: process.env.CLICKHOUSE_USER ?? 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    request_timeout: 60_000,
  });
  try {
    const applied = await runMigrations(client, {
      dir,
      log: (m) => console.log(`[clickhouse-migrate] ${m}`),
    });
    const total = loadMigrations(dir).length;
    console.log(`[clickhouse-migrate] ok: ${total} migration(s), ${applied.length} applied now`);
  } finally {
    await client.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`[clickhouse-migrate] failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
