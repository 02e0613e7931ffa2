// HTTP benchmark of the API's read routes over the loader's data (bench/api/loader.ts, issue 15): open-loop
// load at fixed request rates, each route alone at rising rates and all of them mixed, signed in as 200
// different athletes. The load generator is vegeta (bench/api/vegeta, built with Go on first use): it sends
// each request at its scheduled time (rate/s evenly spaced), whatever the earlier answers' latency, and
// reports exact percentiles. autocannon (`--tool autocannon`, or `--compare` for the mixed rows) is kept for
// comparison only: its overallRate is a per-second budget per connection, spent back to back when each
// second starts (every connection's burst at once), and its coordinated-omission correction takes
// Math.ceil(1 / rate) = 1 ms as the expected interval, so each answer of L ms is counted L times.
// The API runs as its own process (services/api/main.ts) on the bench databases; this process only
// drives the load. Reports req/s, p50/p99 and the CPU share of the API process and of ClickHouse over
// each run (what saturates first), as JSON and markdown in bench/results/. In the same run, at the same
// rates, two bare baselines (bench/api/baseline-server.ts, a process of its own like the API): a fastify
// route that answers a constant and one bare ClickHouse query on the `activities` key, so that ratios
// stand when the shared machine is loaded. The API logs its ClickHouse queries (ch_log_queries=1 in its
// URL): the report ends with their server times from system.query_log. `--profile DIR` runs the API
// under node --cpu-prof (summarise with bench/worker-cpuprofile-top.ts).
//
//   flock /tmp/fitstream-bench.lock node --import tsx bench/api/http.ts [--seconds 8] [--rates 50,100,200,400,800] [--mixed 100,250,500] [--profile /tmp/prof] [--tool vegeta|autocannon] [--compare] [--routes leaderboard,stats]
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import autocannon from 'autocannon';
import { testAuth, tokenFor } from '../../test/support/api-auth.js';
import { BENCH_DB, benchPgUrl } from './loader.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    rates: { type: 'string', default: '50,100,200,400,800' },
    mixed: { type: 'string', default: '100,250,500' },
    port: { type: 'string', default: '3999' },
    users: { type: 'string', default: '10000' },
    groups: { type: 'string', default: '100' },
    profile: { type: 'string', default: '' },
    tool: { type: 'string', default: 'vegeta' },
    compare: { type: 'boolean', default: false },
    routes: { type: 'string', default: '' },
  },
});
if (values.tool !== 'vegeta' && values.tool !== 'autocannon') throw new Error('--tool vegeta|autocannon');
const SECONDS = Number(values.seconds);
const PORT = Number(values.port);
const BASE = `http://127.0.0.1:${PORT}`;
const BARE = `http://127.0.0.1:${PORT + 1}`;
const CH_URL = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';
const load1 = () => Math.round((loadavg()[0] ?? 0) * 10) / 10;
const ATHLETES = 200;

const md5uuid = (s: string) => {
  const h = createHash('md5').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

/** CPU seconds (user + system) of a process so far, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(parts[11]) + Number(parts[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function clickhousePid(): number {
  const dir = process.env.FITSTREAM_DATA_DIR ?? '.data';
  try {
    return Number(readFileSync(`${dir}/run/clickhouse.pid`, 'utf8').trim());
  } catch {
    return Number.NaN;
  }
}

/** vegeta, built from the pin in bench/api/vegeta into the stack's opt/bin the first time (and after a pin change). */
function buildVegeta(): string {
  const out = execFileSync(
    'bash',
    [
      '-c',
      'source infra/local/lib/common.sh && source infra/local/lib/gobuild.sh && go_build_pinned vegeta bench/api/vegeta github.com/tsenart/vegeta/v12 >&2 && echo "$FS_OPT/bin/vegeta"',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return out.toString().trim();
}
const VEGETA = values.tool === 'vegeta' || values.compare ? buildVegeta() : '';

async function main() {
  const auth = await testAuth();
  const userIdx = Array.from({ length: ATHLETES }, (_, k) =>
    Math.floor((k * Number(values.users)) / ATHLETES),
  );
  const athletes = await Promise.all(
    userIdx.map(async (i) => ({
      i,
      id: md5uuid(`bench-user-${i}`),
      group: md5uuid(`bench-group-${(i * i) % Number(values.groups)}`),
      token: await tokenFor(auth.tokens, md5uuid(`bench-user-${i}`)),
      activity: '',
    })),
  );
  const ch = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123' });
  const rs = await ch.query({
    query: `SELECT user_id, any(activity_id) AS activity_id FROM ${BENCH_DB}.activities
            WHERE user_id IN (${athletes.map((a) => `'${a.id}'`).join(', ')}) GROUP BY user_id`,
    format: 'JSONEachRow',
  });
  const ids = new Map(
    (await rs.json<{ user_id: string; activity_id: string }>()).map((r) => [r.user_id, r.activity_id]),
  );
  for (const a of athletes) a.activity = ids.get(a.id) ?? '';
  await ch.close();

  const startedAt = Math.floor(Date.now() / 1000);
  const loadAtStart = loadavg().map((x) => Math.round(x * 10) / 10);
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : [];
  const api = spawn(process.execPath, [...profile, '--import', 'tsx', 'services/api/main.ts'], {
    env: {
      ...process.env,
      CLICKHOUSE_URL: `${CH_URL.replace(/\/$/, '')}/?ch_log_queries=1`,
      DATABASE_URL: benchPgUrl(),
      CLICKHOUSE_DATABASE: BENCH_DB,
      API_PORT: String(PORT),
      API_RATE_LIMIT_PER_MIN: '100000000',
      API_STATS_GROUP_ID: 'bench-api-stats',
      API_POINTS_GROUP_ID: 'bench-api-points',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const bare = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/api/baseline-server.ts', String(PORT + 1), BENCH_DB],
    {
      env: { ...process.env, CLICKHOUSE_URL: CH_URL },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  for (const base of [BASE, BARE]) {
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/readyz`)).ok) break;
      } catch {}
      if (Date.now() > until) throw new Error(`${base} did not start`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const month = new Date();
  const from = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() - 5, 1))
    .toISOString()
    .slice(0, 10);
  const to = new Date().toISOString().slice(0, 10);
  const allRoutes: Record<string, (a: (typeof athletes)[number]) => string> = {
    'activity detail': (a) => `/v1/activities/${a.activity}`,
    'activity list': () => '/v1/activities?limit=20',
    stats: () => '/v1/users/me/stats',
    progress: () => `/v1/users/me/progress?metric=distance&period=week&from=${from}&to=${to}`,
    goals: () => '/v1/goals',
    leaderboard: (a) => `/v1/leaderboards?period=month&group_id=${a.group}`,
  };
  // --routes a,b: only those routes (alone and mixed), and no baselines (e.g. to profile one route)
  const only = values.routes ? new Set(values.routes.split(',')) : null;
  const routes = Object.fromEntries(Object.entries(allRoutes).filter(([k]) => !only || only.has(k)));
  if (Object.keys(routes).length === 0) throw new Error(`--routes: none of ${values.routes}`);
  // warm each route per athlete (caches that a real app's repeat visits would hit): twice, because an
  // activity's detail is cached on its second read (the first finds its athlete through activity_owners, the
  // second reads the row under that athlete's cache generation); the cold read's ClickHouse cost is in the
  // query_log table of the report
  for (let pass = 0; pass < 2; pass++)
    for (const a of athletes)
      await Promise.all(
        Object.values(routes).map((r) =>
          fetch(`${BASE}${r(a)}`, { headers: { authorization: `Bearer ${a.token}` } }),
        ),
      );

  const chPid = clickhousePid();
  type Athlete = (typeof athletes)[number];
  const run = async (
    name: string,
    paths: ((a: Athlete) => string)[],
    rate: number,
    server: { url: string; pid: number } = { url: BASE, pid: api.pid! },
    tool: 'vegeta' | 'autocannon' = values.tool as 'vegeta' | 'autocannon',
  ) => {
    const cpu0 = { api: cpuSeconds(server.pid), ch: cpuSeconds(chPid) };
    const load0 = load1();
    const r =
      tool === 'vegeta'
        ? await vegetaRun(server.url, paths, rate)
        : await autocannonRun(server.url, paths, rate);
    const row = {
      scenario: name,
      tool,
      target_rps: rate,
      ...r,
      api_cpu: Math.round(((cpuSeconds(server.pid) - cpu0.api) / SECONDS) * 100) / 100,
      clickhouse_cpu: Math.round(((cpuSeconds(chPid) - cpu0.ch) / SECONDS) * 100) / 100,
      load1: Math.max(load0, load1()),
    };
    process.stdout.write(`${JSON.stringify(row)}\n`);
    return row;
  };
  // request k goes to athlete k mod 200 on route k mod (number of routes), as in every earlier run
  const requestAt = (paths: ((a: Athlete) => string)[], k: number) => {
    const a = athletes[k % athletes.length]!;
    return { a, route: k % paths.length, path: paths[k % paths.length]!(a) };
  };
  const autocannonRun = async (url: string, paths: ((a: Athlete) => string)[], rate: number) => {
    let n = 0;
    const r = await autocannon({
      url,
      connections: Math.min(100, Math.max(10, Math.ceil(rate / 10))),
      overallRate: rate,
      duration: SECONDS,
      requests: [
        {
          setupRequest: (req) => {
            const { a, path } = requestAt(paths, n++);
            return { ...req, path, headers: { ...req.headers, authorization: `Bearer ${a.token}` } };
          },
        },
      ],
    });
    return {
      rps: Math.round(r.requests.average),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      max_ms: r.latency.max,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      per_route_p99_ms: [] as number[],
    };
  };
  const vegetaRun = async (url: string, paths: ((a: Athlete) => string)[], rate: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'fitstream-vegeta-'));
    try {
      const cycle = athletes.length * paths.length; // every (athlete, route) pair once
      const targets = Array.from({ length: cycle }, (_, k) => {
        const { a, path } = requestAt(paths, k);
        return JSON.stringify({
          method: 'GET',
          url: `${url}${path}`,
          header: { Authorization: [`Bearer ${a.token}`] },
        });
      });
      writeFileSync(join(dir, 'targets.json'), `${targets.join('\n')}\n`);
      const out = join(dir, 'results.bin');
      await new Promise<void>((resolve, reject) => {
        const p = spawn(
          VEGETA,
          [
            'attack',
            '-format=json',
            `-targets=${join(dir, 'targets.json')}`,
            `-rate=${rate}/1s`,
            `-duration=${SECONDS}s`,
            '-timeout=10s',
            '-max-body=0',
            `-output=${out}`,
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
        p.once('error', reject);
        p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vegeta attack: exit ${code}`))));
      });
      // one JSON line per request: timestamp, latency (ns), code, url
      const results = execFileSync(VEGETA, ['encode', '--to', 'json', out], { maxBuffer: 1 << 30 })
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as { timestamp: string; latency: number; code: number; url: string; error: string },
        );
      const byUrl = new Map(targets.map((_, k) => [requestAt(paths, k).path, k % paths.length]));
      const ms = (ns: number[]) => ns.map((x) => x / 1e6).sort((x, y) => x - y);
      const pct = (sorted: number[], q: number) =>
        sorted.length
          ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! * 10) / 10
          : Number.NaN;
      const ok = results.filter((x) => x.code >= 200 && x.code < 300);
      const all = ms(ok.map((x) => x.latency));
      const t = results.map((x) => Date.parse(x.timestamp));
      const span = (Math.max(...t) - Math.min(...t)) / 1000 || SECONDS;
      const perRoute = paths.map((_, i) =>
        pct(ms(ok.filter((x) => byUrl.get(x.url.slice(url.length)) === i).map((x) => x.latency)), 0.99),
      );
      return {
        rps: Math.round(results.length / span),
        p50_ms: pct(all, 0.5),
        p99_ms: pct(all, 0.99),
        max_ms: pct(all, 1),
        non2xx: results.filter((x) => x.code && (x.code < 200 || x.code >= 300)).length,
        errors: results.filter((x) => !x.code).length,
        per_route_p99_ms: paths.length > 1 ? perRoute : [],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const rows = [];
  const rates = values.rates.split(',').map(Number);
  const baselines: Record<string, (a: (typeof athletes)[number]) => string> = {
    'bare fastify (constant)': () => '/const',
    'bare ClickHouse by key': (a) => `/ch?u=${a.id}`,
  };
  for (const [name, path] of only ? [] : Object.entries(baselines))
    for (const rate of rates) {
      const row = await run(name, [path], rate, { url: BARE, pid: bare.pid! });
      rows.push(row);
      if (row.p99_ms > 100 || row.rps < rate * 0.9 || row.non2xx > 0) break;
    }
  for (const [name, path] of Object.entries(routes))
    for (const rate of rates) {
      const row = await run(name, [path], rate);
      rows.push(row);
      if (row.p99_ms > 100 || row.rps < rate * 0.9 || row.non2xx > 0) break;
    }
  for (const rate of values.mixed.split(',').filter(Boolean).map(Number)) {
    rows.push(await run('mixed', Object.values(routes), rate));
    if (values.compare)
      rows.push(
        await run(
          'mixed',
          Object.values(routes),
          rate,
          undefined,
          values.tool === 'vegeta' ? 'autocannon' : 'vegeta',
        ),
      );
  }
  const apiExited = new Promise((r) => api.once('exit', r));
  api.kill('SIGTERM');
  bare.kill('SIGTERM');
  await apiExited; // (the CPU profile is written on exit)
  const loadAtEnd = loadavg().map((x) => Math.round(x * 10) / 10);

  // the API's ClickHouse queries over the run, by shape (literals out), from system.query_log
  const ch2 = createClient({ url: CH_URL });
  await ch2.command({ query: 'SYSTEM FLUSH LOGS' });
  const shapes = await (
    await ch2.query({
      query: `SELECT substring(replaceRegexpAll(replaceRegexpAll(query, '\\'[^\\']*\\'', '?'), '[0-9]+', 'N'), 1, 120) AS shape,
                count() AS queries, round(avg(query_duration_ms), 1) AS avg_ms,
                quantile(0.5)(query_duration_ms) AS p50_ms, quantile(0.99)(query_duration_ms) AS p99_ms,
                round(avg(read_rows)) AS read_rows, round(avg(read_bytes) / 1024) AS read_kib
              FROM system.query_log
              WHERE type = 2 AND event_time >= toDateTime(${startedAt}) AND query LIKE '%${BENCH_DB}%'
                AND query NOT LIKE '%system.query_log%'
              GROUP BY shape ORDER BY queries DESC LIMIT 12`,
      format: 'JSONEachRow',
    })
  ).json<{
    shape: string;
    queries: string;
    avg_ms: number;
    p50_ms: number;
    p99_ms: number;
    read_rows: number;
    read_kib: number;
  }>();
  await ch2.close();

  const best = new Map<string, number>();
  for (const r of rows)
    if (r.tool === values.tool && r.p99_ms < 100 && r.non2xx === 0 && r.rps >= r.target_rps * 0.9)
      best.set(r.scenario, Math.max(best.get(r.scenario) ?? 0, r.target_rps));
  const stamp = new Date().toISOString();
  writeFileSync(
    'bench/results/api-http.json',
    `${JSON.stringify({ at: stamp, seconds: SECONDS, load_start: loadAtStart, load_end: loadAtEnd, rows, best: Object.fromEntries(best), clickhouse_queries: shapes }, null, 2)}\n`,
  );
  const md = [
    `# API read routes under fixed-rate load (${stamp})`,
    '',
    `\`flock /tmp/fitstream-bench.lock node --import tsx bench/api/http.ts --seconds ${SECONDS} --rates ${values.rates} --mixed ${values.mixed}${values.profile ? ` --profile ${values.profile}` : ''}${values.tool !== 'vegeta' ? ` --tool ${values.tool}` : ''}${values.compare ? ' --compare' : ''}${values.routes ? ` --routes ${values.routes}` : ''}\` at commit ${process.env.BENCH_COMMIT ?? '(BENCH_COMMIT unset)'} over \`bench/api/loader.ts\` (${values.users} athletes in ${values.groups} groups; activities as loaded); ${ATHLETES} athletes signed in; load from ${values.tool === 'vegeta' ? 'vegeta (open loop, evenly spaced requests)' : 'autocannon overallRate'}; API and every server on this 2-core machine. Load average (1/5/15 min) ${loadAtStart.join(' / ')} at the start, ${loadAtEnd.join(' / ')} at the end; \`load\` = the highest 1-minute load average seen at either end of a row. Server CPU = cores used by the serving process (the API, or the baseline server for the bare rows) over the run.`,
    '',
    '| scenario | tool | target req/s | req/s | p50 ms | p99 ms | max ms | non-2xx | errors | server CPU | ClickHouse CPU | load |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.tool} | ${r.target_rps} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.max_ms} | ${r.non2xx} | ${r.errors} | ${r.api_cpu} | ${r.clickhouse_cpu} | ${r.load1} |`,
    ),
    '',
    `Mixed rows, p99 ms per route (vegeta; ${Object.keys(routes).join(', ')}):`,
    '',
    ...rows
      .filter((r) => r.per_route_p99_ms.length)
      .map((r) => `- ${r.target_rps} req/s: ${r.per_route_p99_ms.join(' / ')}`),
    '',
    'Highest tested rate with p99 < 100 ms, no errors and ≥ 90 % of the target served:',
    '',
    ...[...Object.keys(baselines), ...Object.keys(routes), 'mixed'].map(
      (k) => `- ${k}: ${best.get(k) ?? 'none of the tested rates'}`,
    ),
    '',
    "## The API's ClickHouse queries over the run (system.query_log, by shape)",
    '',
    '| queries | avg ms | p50 ms | p99 ms | rows read | KiB read | query (literals as ?, numbers as N) |',
    '|---|---|---|---|---|---|---|',
    ...shapes.map(
      (q) =>
        `| ${q.queries} | ${q.avg_ms} | ${q.p50_ms} | ${q.p99_ms} | ${q.read_rows} | ${q.read_kib} | \`${q.shape.replace(/\s+/g, ' ').replace(/`/g, '').replace(/\|/g, '\\|')}\` |`,
    ),
    '',
  ].join('\n');
  writeFileSync('bench/results/api-http.md', md);
  process.stdout.write(md);
}

await main();
process.exit(0);
