// The worker's recovery query after a restart or rebalance ("which sessions of my partitions were
// never announced?"), before and after session_index (migration 0012), at a given table size.
//
//   npx tsx bench/worker-recovery-query.ts [--sessions 5000000] [--days 365] [--rounds 2]
//                                          [--out bench/results/worker-recovery-query]
//
// Fills a private database with --sessions sessions seen evenly over the last --days days (12 Kafka
// partitions), every one announced except one in 1,000, then runs, for partitions 0–5 (a worker of
// two): the old query (`sessions FINAL` against every announcement ever made, verbatim from
// 8d8ce0d) and ClickHouseSessionStore.unfinalisedSessions with the default 7-day window. Reports wall
// time, the server's peak memory and rows read (system.query_log), and the rows found. The
// database is dropped at the end.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { applyWorkerSchema } from '../services/worker/clickhouse-schema.js';
import { ClickHouseSessionStore } from '../services/worker/store-clickhouse.js';
import { rid } from '../test/support/worker.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '5000000' },
    days: { type: 'string', default: '365' },
    rounds: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results/worker-recovery-query' },
  },
});
const N = Number(values.sessions);
const DAYS = Number(values.days);
const ROUNDS = Number(values.rounds);
const WINDOW_MS = 7 * 24 * 3600 * 1000;
const PARTITIONS = [0, 1, 2, 3, 4, 5];

const url = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const ch = createClient({
  url,
  request_timeout: 600_000,
  clickhouse_settings: { log_queries: 1, max_memory_usage: '20000000000' },
});
const db = `wbench_recovery_${rid()}`;

interface Run {
  query: 'before (sessions, all announcements)' | 'after (session_index, 7-day window)';
  ms: number;
  found: number;
  memory: number;
  readRows: number;
}

async function lastQueryStats(tag: string): Promise<{ memory: number; readRows: number }> {
  await ch.command({ query: 'SYSTEM FLUSH LOGS' });
  const rs = await ch.query({
    query: `SELECT memory_usage, read_rows FROM system.query_log
            WHERE type = 2 AND query LIKE '%${tag}%' AND query NOT LIKE '%query_log%'
            ORDER BY event_time DESC LIMIT 1`,
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ memory_usage: string; read_rows: string }>();
  return { memory: Number(r?.memory_usage ?? Number.NaN), readRows: Number(r?.read_rows ?? Number.NaN) };
}

try {
  await applyWorkerSchema(ch, db);
  // the table the worker used before migration 0012, as 0010 created it
  await ch.command({
    query: `CREATE TABLE ${db}.sessions (user_id String, device_id String, session_id String, sport String,
            kafka_partition UInt16) ENGINE = ReplacingMergeTree ORDER BY (device_id, session_id)`,
  });
  const now = Date.now();
  const t0 = performance.now();
  const cols = `concat('user-', toString(number % 200000)), concat('dev-', toString(number % 300000)),
                concat('sess-', toString(number))`;
  await ch.command({
    query: `INSERT INTO ${db}.sessions SELECT ${cols}, 'running', number % 12 FROM numbers(${N})`,
  });
  await ch.command({
    query: `INSERT INTO ${db}.session_index SELECT ${cols}, 'running', number % 12,
            ${now} - toInt64(intDiv((${N} - number) * ${DAYS * 86_400_000}, ${N})) FROM numbers(${N})`,
  });
  await ch.command({
    query: `INSERT INTO ${db}.activity_announcements SELECT ${cols}, 1 FROM numbers(${N})
            WHERE number % 1000 != 7`,
  });
  await ch.command({ query: `OPTIMIZE TABLE ${db}.sessions FINAL` });
  await ch.command({ query: `OPTIMIZE TABLE ${db}.activity_announcements FINAL` });
  console.log(`filled ${N} sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const store = new ClickHouseSessionStore(ch, db);
  const runs: Run[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const tag = `recovery_before_${round}_${rid(3)}`;
    let t = performance.now();
    const rs = await ch.query({
      query: `SELECT user_id, device_id, session_id, sport, kafka_partition /* ${tag} */
       FROM ${db}.sessions FINAL
       WHERE kafka_partition IN (${PARTITIONS.join(', ')})
         AND (device_id, session_id) NOT IN (SELECT device_id, session_id FROM ${db}.activity_announcements)`,
      format: 'JSONEachRow',
    });
    const before = await rs.json();
    runs.push({
      query: 'before (sessions, all announcements)',
      ms: performance.now() - t,
      found: before.length,
      ...(await lastQueryStats(tag)),
    });
    t = performance.now();
    const after = await store.unfinalisedSessions(PARTITIONS, Date.now() - WINDOW_MS);
    runs.push({
      query: 'after (session_index, 7-day window)',
      ms: performance.now() - t,
      found: after.length,
      ...(await lastQueryStats(`${db}%LIMIT 1 BY`)),
    });
  }
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  const md = [
    '# Worker recovery query',
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} cores, ClickHouse at ${url}; 1-minute load ${os.loadavg()[0]!.toFixed(2)}.`,
    `Command: \`npx tsx bench/worker-recovery-query.ts --sessions ${N} --days ${DAYS} --rounds ${ROUNDS}\``,
    '',
    `${N} sessions seen evenly over ${DAYS} days on 12 partitions, all announced but one in 1,000; query for partitions 0–5.`,
    '',
    '| round | query | wall ms | server peak memory MiB | rows read | sessions found |',
    '|---|---|---|---|---|---|',
    ...runs.map(
      (r, i) =>
        `| ${Math.floor(i / 2) + 1} | ${r.query} | ${Math.round(r.ms)} | ${mib(r.memory)} | ${r.readRows} | ${r.found} |`,
    ),
    '',
    'Before, the result holds every unannounced session ever (here the one in 1,000 of all time); after, those',
    'seen within the window. The old query reads both tables whole and holds every announcement in a set.',
    '',
  ].join('\n');
  console.log(md);
  writeFileSync(`${values.out}.md`, md);
  writeFileSync(`${values.out}.json`, `${JSON.stringify({ sessions: N, days: DAYS, runs }, null, 2)}\n`);
} finally {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
}
