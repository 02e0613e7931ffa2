// Peak RSS of the API for one large upload (issue 13: is a streamed request body worth it?).
//
//   flock /tmp/fitstream-bench.lock node --import tsx bench/upload-rss.ts [--points 100000] [--runs 3]
//
// Each run forks a fresh API process (test/support/api-stack.ts: the app as main.ts builds it, on the local
// stack's PostgreSQL, Redis, ClickHouse and Kafka; uploads go to a private topic, no worker). This process
// signs in, posts a 200-point upload to warm every path (the bare baseline of the same process), reads the
// child's peak RSS, then posts the large upload over HTTP (a real socket, the body read in chunks) and reads
// the peak again: the difference is what the upload cost. Beside it, in fresh processes: the peak of reading
// the body file alone and of JSON.parse of it, to show how much of the cost is the parse that a streaming
// JSON parser would replace. Writes bench/results/upload-rss.{json,md}.
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSession } from './synth/index.js';

const self = fileURLToPath(import.meta.url);
const mode = process.argv[2];

interface Rss {
  maxRssKiB: number;
  rssKiB: number;
  heapUsedKiB: number;
}
const rssNow = (): Rss => ({
  maxRssKiB: process.resourceUsage().maxRSS,
  rssKiB: Math.round(process.memoryUsage().rss / 1024),
  heapUsedKiB: Math.round(process.memoryUsage().heapUsed / 1024),
});

if (mode === 'api') {
  const { startApiStack } = await import('../test/support/api-stack.js');
  const s = await startApiStack({});
  const u = await s.user();
  process.send!({ kind: 'ready', baseUrl: s.baseUrl, auth: u.auth.authorization });
  process.on('message', async (m: { kind: string }) => {
    if (m.kind === 'rss') process.send!({ kind: 'rss', ...rssNow() });
    if (m.kind === 'close') {
      await s.close();
      process.exit(0);
    }
  });
} else if (mode === 'parse') {
  // within one process, after a GC: what holding the body text costs, then what JSON.parse of it adds
  // (heap retained by the parsed tree, and the rise of the peak RSS over the RSS before the parse)
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const text = readFileSync(process.argv[3]!, 'utf8');
  gc();
  const r1 = process.memoryUsage().rss;
  const h1 = process.memoryUsage().heapUsed;
  const parsed = JSON.parse(text) as { data_points: unknown[] };
  gc();
  const h2 = process.memoryUsage().heapUsed;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    `${JSON.stringify({ textMiB: (h1 - h0) / 1048576, treeMiB: (h2 - h1) / 1048576, parsePeakMiB: (peak - r1) / 1048576, points: parsed.data_points.length })}\n`,
  );
} else {
  const { values } = parseArgs({
    options: { points: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' } },
  });
  const points = Number(values.points);
  const runs = Number(values.runs);
  const body = (n: number) => {
    const { samples } = generateSession({
      sport: 'running',
      seed: 15,
      durationS: n - 1,
      hrSpikeProbability: 0,
    });
    return JSON.stringify({
      type: 'running',
      start_time: new Date(samples[0]!.ts).toISOString(),
      data_points: samples.map((p) => ({
        time: new Date(p.ts).toISOString(),
        lat: p.lat,
        lng: p.lon,
        altitude: p.alt,
        heart_rate: p.hr,
        cadence: p.cadence,
        power: p.power,
        speed: p.speed,
        distance: p.dist,
      })),
    });
  };
  const dir = mkdtempSync(join(tmpdir(), 'upload-rss-'));
  const bigFile = join(dir, 'big.json');
  const big = body(points);
  writeFileSync(bigFile, big);
  const small = body(200);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
  const load = [loadavg()[0]!];
  const rows: Record<string, number>[] = [];
  const child = (m: string) =>
    JSON.parse(
      execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, m, bigFile]).toString(),
    );
  for (let r = 0; r < runs; r++) {
    const api = fork(self, ['api'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const next = <T>(kind: string) =>
      new Promise<T>((resolve) => {
        const on = (m: { kind: string }) => {
          if (m.kind === kind) {
            api.off('message', on);
            resolve(m as T);
          }
        };
        api.on('message', on);
      });
    const { baseUrl, auth } = await next<{ baseUrl: string; auth: string }>('ready');
    const post = async (payload: string, key: string) => {
      const t0 = performance.now();
      const res = await fetch(`${baseUrl}/v1/activities`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json', 'idempotency-key': key },
        body: payload,
      });
      await res.text();
      if (res.status !== 202) throw new Error(`upload answered ${res.status}`);
      return performance.now() - t0;
    };
    const rss = () => {
      const p = next<Rss>('rss');
      api.send({ kind: 'rss' });
      return p;
    };
    await post(small, `warm-${r}-${Date.now()}`);
    await post(small, `warm2-${r}-${Date.now()}`);
    const before = await rss();
    const ms = await post(big, `big-${r}-${Date.now()}`);
    const after = await rss();
    load.push(loadavg()[0]!);
    api.send({ kind: 'close' });
    await new Promise((resolve) => api.once('exit', resolve));
    const parse = child('parse');
    rows.push({
      run: r + 1,
      baselineMaxRssMiB: before.maxRssKiB / 1024,
      afterMaxRssMiB: after.maxRssKiB / 1024,
      uploadPeakMiB: (after.maxRssKiB - before.maxRssKiB) / 1024,
      uploadMs: ms,
      textMiB: parse.textMiB,
      treeMiB: parse.treeMiB,
      parsePeakMiB: parse.parsePeakMiB,
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
  rmSync(dir, { recursive: true, force: true });
  const median = (k: string) => {
    const xs = rows.map((x) => x[k]!).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)]!;
  };
  const result = {
    commit,
    points,
    bodyMiB: Buffer.byteLength(big) / 1048576,
    loadAverage1m: load,
    node: process.version,
    runs: rows,
    median: {
      uploadPeakMiB: median('uploadPeakMiB'),
      parsePeakMiB: median('parsePeakMiB'),
      treeMiB: median('treeMiB'),
      textMiB: median('textMiB'),
      uploadMs: median('uploadMs'),
      baselineMaxRssMiB: median('baselineMaxRssMiB'),
    },
  };
  const f = (x: number) => x.toFixed(1);
  const md = `# Upload peak RSS (bench/upload-rss.ts)

Command: \`flock /tmp/fitstream-bench.lock node --import tsx bench/upload-rss.ts --points ${points} --runs ${runs}\`
Commit ${commit}, ${process.version}, 1-minute load average ${load.map((x) => x.toFixed(2)).join(' → ')}
(2 cores, shared by several engineers' test runs). Body: ${points} data points, ${f(result.bodyMiB)} MiB of JSON.

Peak RSS of a fresh API process: after start-up and two 200-point uploads (the bare baseline of the same
process), and after the ${points}-point upload over HTTP. Beside it, a fresh process (after a GC each step) that
holds the body text (heap), JSON.parses it (heap the parsed tree retains) and the rise of its peak RSS over its
RSS before the parse.

| run | API baseline MiB | API after MiB | upload peak +MiB | upload ms | body text heap MiB | parsed tree heap MiB | parse peak +MiB |
|---|---|---|---|---|---|---|---|
${rows.map((x) => `| ${x.run} | ${f(x.baselineMaxRssMiB!)} | ${f(x.afterMaxRssMiB!)} | ${f(x.uploadPeakMiB!)} | ${x.uploadMs!.toFixed(0)} | ${f(x.textMiB!)} | ${f(x.treeMiB!)} | ${f(x.parsePeakMiB!)} |`).join('\n')}

Median: the upload raises the API's peak by ${f(result.median.uploadPeakMiB)} MiB over a baseline of
${f(result.median.baselineMaxRssMiB)} MiB; of the same body, the text takes ${f(result.median.textMiB)} MiB of heap and
the parsed tree ${f(result.median.treeMiB)} MiB (JSON.parse peak +${f(result.median.parsePeakMiB)} MiB).
`;
  writeFileSync(join('bench', 'results', 'upload-rss.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join('bench', 'results', 'upload-rss.md'), md);
  console.log(md);
}
