// The coach's live board with N live athletes in headless Chromium: frame times (requestAnimationFrame) while
// every athlete updates once a second, against a bare page in the same browser and run (the machine's own
// floor), and the main thread's CPU profile by function. The snapshots are written to Redis as the worker
// writes them (schemas/live-keys.ts); the API (board stream) and the browser are what is measured.
//   npx tsx bench/web-board.ts [--athletes 300] [--seconds 8] [--warmup-s 0] [--web-root web/dist]
//                              [--out bench/results/web-board]
// --warmup-s: how long the board runs before the measurement (every trail grows by a point a second, up to
// 600). --web-root: another build of the app (a baseline). Needs the local stack (PostgreSQL, Redis,
// ClickHouse, Kafka) and a build of the app (npm run build:web).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { liveKeys } from '../schemas/live-keys.js';
import { startApiStack, TEST_PASSWORD } from '../test/support/api-stack.js';
import { launchChromium } from '../test/support/browser.js';

const { values } = parseArgs({
  options: {
    athletes: { type: 'string', default: '300' },
    seconds: { type: 'string', default: '8' },
    'warmup-s': { type: 'string', default: '0' },
    'web-root': { type: 'string' },
    out: { type: 'string', default: 'bench/results/web-board' },
  },
});
const N = Number(values.athletes);
const MS = Number(values.seconds) * 1000;
const WARMUP_MS = Number(values['warmup-s']) * 1000;

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  longTasks: number;
}
// runs in the page (a string: no transform helpers leak into it)
const frameTimes = (p: Page, ms: number) =>
  p.evaluate(`new Promise((done) => {
    const deltas = []; let longTasks = 0;
    const obs = new PerformanceObserver((l) => { longTasks += l.getEntries().length; });
    obs.observe({ type: 'longtask', buffered: false });
    let last = performance.now(); const end = last + ${ms};
    const frame = (t) => {
      deltas.push(t - last); last = t;
      if (t < end) return requestAnimationFrame(frame);
      obs.disconnect();
      const s = [...deltas].sort((a, b) => a - b);
      const q = (f) => Math.round(s[Math.min(s.length - 1, Math.floor(f * s.length))] * 10) / 10;
      done({ frames: s.length, p50: q(0.5), p95: q(0.95), max: q(1), longTasks });
    };
    requestAnimationFrame(frame);
  })`) as Promise<FrameStats>;

// a PostgreSQL database of its own: the access rule reads tables that may be newer than the shared database
const s = await startApiStack({
  privatePg: true,
  ...(values['web-root'] ? { webRoot: resolve(values['web-root']) } : {}),
});
const load0 = loadavg()[0]!;
const coach = await s.user({ name: 'coach' });
const athletes = Array.from({ length: N }, () => randomUUID());
await s.pool.query(
  `INSERT INTO users (id, email, name) SELECT id, 'bench-' || id || '@test.invalid', 'Athlete ' || ord
   FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`,
  [athletes],
);
await s.pool.query(
  `INSERT INTO coach_grants (coach_id, athlete_id, coach_email, accepted_at)
   SELECT $1, id, $2, now() FROM unnest($3::uuid[]) AS t(id)`,
  [coach.id, coach.email.toLowerCase(), athletes],
);
const sessions = athletes.map((userId, i) => ({ userId, activityId: randomUUID(), i }));
const t0 = Date.now();
const publish = async () => {
  const k = (Date.now() - t0) / 1000;
  const pipe = s.redis.pipeline();
  for (const x of sessions) {
    const angle = (x.i / N) * 2 * Math.PI + k / 600;
    const snap = {
      activityId: x.activityId,
      userId: x.userId,
      deviceId: 'd',
      sessionId: 's',
      sport: x.i % 3 ? 'running' : 'cycling',
      status: 'active',
      ts: Date.now(),
      lat: 47.37 + 0.02 * Math.sin(angle) * (1 + x.i / N),
      lon: 8.54 + 0.03 * Math.cos(angle) * (1 + x.i / N),
      hr: 110 + (x.i % 70),
      speedMps: 3,
      paceSPerKm: 333,
      distanceM: k * 3,
      elapsedS: k,
      movingS: k,
      samples: Math.round(k),
    };
    pipe.hset(
      liveKeys.hash(x.activityId),
      Object.fromEntries(Object.entries(snap).map(([f, v]) => [f, String(v)])),
    );
    pipe.expire(liveKeys.hash(x.activityId), 120);
    pipe.zadd(liveKeys.active(x.userId), snap.ts, x.activityId);
    pipe.expire(liveKeys.active(x.userId), 120);
    pipe.publish(liveKeys.userChannel(x.userId), JSON.stringify(snap));
  }
  await pipe.exec();
};
await publish();
const timer = setInterval(() => void publish(), 1000);
const browser = await launchChromium();
try {
  const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await p.goto(`${s.baseUrl}/app/#/signin`);
  await p.getByLabel('E-mail').fill(coach.email);
  await p.getByLabel('Password').fill(TEST_PASSWORD);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('button', { name: 'Sign out' }).waitFor();
  await p.goto(`${s.baseUrl}/app/#/board`);
  while ((await p.locator('li.live-card[data-state="live"]').count()) < N)
    await new Promise((r) => setTimeout(r, 250));
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const cdp = await p.context().newCDPSession(p);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  const board = await frameTimes(p, MS);
  const { profile } = (await cdp.send('Profiler.stop')) as {
    profile: {
      nodes: { id: number; callFrame: { functionName: string } }[];
      samples: number[];
      timeDeltas: number[];
    };
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName || '(anonymous)']));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!;
    self.set(f, (self.get(f) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  const bare = await browser.newPage();
  await bare.setContent('<p>bare</p>');
  const floor = await frameTimes(bare, MS);
  const result = {
    date: new Date().toISOString(),
    command: `npx tsx bench/web-board.ts --athletes ${N} --seconds ${MS / 1000} --warmup-s ${WARMUP_MS / 1000}${values['web-root'] ? ` --web-root ${values['web-root']}` : ''}`,
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
    machine: `${cpus().length} × ${cpus()[0]?.model.trim()}`,
    chromium: browser.version(),
    loadavg: { start: load0, end: loadavg()[0] },
    athletes: N,
    board,
    bare: floor,
    mainThreadMsBySelf: Object.fromEntries(top.map(([k, v]) => [k, Math.round(v)])),
  };
  writeFileSync(`${values.out}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const row = (name: string, f: FrameStats) =>
    `| ${name} | ${f.frames} (${(f.frames / (MS / 1000)).toFixed(1)}/s) | ${f.p50} | ${f.p95} | ${f.max} | ${f.longTasks} |`;
  writeFileSync(
    `${values.out}.md`,
    [
      `# Coach board frame times (${result.date})`,
      '',
      `\`${result.command}\` on ${result.machine}, Chromium ${result.chromium} headless (--disable-gpu), load average ${load0.toFixed(1)} → ${result.loadavg.end!.toFixed(1)} (the machine is shared).`,
      '',
      '| page | frames | p50 ms | p95 ms | max ms | long tasks |',
      '|---|---|---|---|---|---|',
      row(`board, ${N} live athletes`, board),
      row('bare page, same browser, same run', floor),
      '',
      `Main thread of the board, self time over ${MS / 1000} s: ${top.map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ')}.`,
      '',
    ].join('\n'),
  );
  console.log(JSON.stringify(result, null, 2));
} finally {
  clearInterval(timer);
  await browser.close();
  const pipe = s.redis.pipeline();
  for (const x of sessions) pipe.del(liveKeys.hash(x.activityId), liveKeys.active(x.userId));
  await pipe.exec();
  // the private database goes with the stack; a cleanup slowed by a loaded machine must not hold the run
  const stuck = setTimeout(() => {
    console.error('cleanup still running after 60 s: exiting');
    process.exit(0);
  }, 60_000);
  stuck.unref();
  await s.close();
}
