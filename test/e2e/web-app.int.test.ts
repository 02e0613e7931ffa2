// The web app (web/, served under /app) in headless Chromium against the real stack: MQTT -> gateway ->
// Kafka -> worker -> Redis/ClickHouse -> API, and activities.v1 -> engagement -> PostgreSQL for goals.
// Everything in a private PostgreSQL database, private topics and a private ClickHouse database.
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateSession } from '../../bench/synth/index.js';
import { liveKeys } from '../../schemas/live-keys.js';
import type { Sample } from '../../schemas/types.js';
import { buildApp } from '../../services/api/app.js';
import { hashPassword } from '../../services/api/auth/passwords.js';
import { ImportRunner } from '../../services/api/import-runner.js';
import { s3ImportStore } from '../../services/api/imports-s3.js';
import { PointsConsumer, PointsStore } from '../../services/api/points-store.js';
import { kafkaTelemetryProducer } from '../../services/api/producer-kafka.js';
import { parseEnv, s3Env } from '../../services/common/config.js';
import { issueDeviceToken } from '../../services/common/device-tokens.js';
import { createLogger } from '../../services/common/logger.js';
import { createMetricsRegistry } from '../../services/common/metrics.js';
import { type RunningEngagement, startEngagement } from '../../services/engagement/app.js';
import { sessionTopic, telemetryTopic } from '../../services/gateway/topics.js';
import { type RunningWorker, startWorkerRuntime } from '../../services/worker/app.js';
import { applyWorkerSchema } from '../../services/worker/clickhouse-schema.js';
import { computeActivity } from '../../services/worker/compute.js';
import { testAuth, tokenFor } from '../support/api-auth.js';
import { TEST_PASSWORD } from '../support/api-stack.js';
import { axeViolations, blocking } from '../support/axe.js';
import { ARTIFACTS, launchChromium, README_IMAGES } from '../support/browser.js';
import { type EngagementStack, engagementStack } from '../support/engagement-stack.js';
import { STACK, startTestGateway, type TestGateway } from '../support/gateway.js';
import { type Isolated, isolate, rid } from '../support/worker.js';

const WEB_CONFIG = new URL('../../web/vite.config.ts', import.meta.url).pathname;
/** FITSTREAM_README_IMAGES=1 also writes the README's two screenshots (docs/img/) */
const README = process.env.FITSTREAM_README_IMAGES === '1';

interface Account {
  id: string;
  email: string;
  name: string;
  auth: { authorization: string };
}

describe('web app in Chromium', () => {
  let iso: Isolated;
  let stack: EngagementStack;
  let gw: TestGateway;
  let w: RunningWorker;
  let engagement: RunningEngagement;
  let app: FastifyInstance;
  let imports: ImportRunner;
  let points: PointsConsumer;
  let s3: S3Client;
  let baseUrl: string;
  let browser: Browser;
  let webRoot: string;
  const redis = new Redis(STACK.redis);
  const run = rid(4);
  let n = 0;

  const inject = async (method: string, url: string, who?: Account, payload?: unknown, headers = {}) => {
    const r = await app.inject({
      method: method as 'GET',
      url,
      headers: { ...who?.auth, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : null };
  };
  let auth: Awaited<ReturnType<typeof testAuth>>;
  let passwordHash: string;
  /**
   * An athlete with the test password, written to PostgreSQL as sign-up writes it (one scrypt hash for all:
   * 128 MiB and a second or more each on this machine), with an access token signed for them.
   */
  const account = async (name: string): Promise<Account> => {
    const email = `web-${run}-${++n}@example.com`;
    const id = (
      await stack.db.pool.query<{ id: string }>(
        `INSERT INTO users (email, name, password_hash, timezone) VALUES ($1, $2, $3, 'Europe/Zurich') RETURNING id`,
        [email, name, passwordHash],
      )
    ).rows[0]!.id;
    return { id, email, name, auth: { authorization: `Bearer ${await tokenFor(auth.tokens, id)}` } };
  };
  const grant = async (athlete: Account, coach: Account): Promise<string> => {
    const g = await inject('POST', '/v1/coach-grants', athlete, { coach_email: coach.email });
    expect(g.status).toBe(201);
    expect((await inject('POST', `/v1/coach-grants/${g.body.id}/accept`, coach)).status).toBe(200);
    return g.body.id;
  };
  const page = async (): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const p = await ctx.newPage();
    p.on('pageerror', (err) => console.error('page error:', err.message));
    return p;
  };
  const signInPage = async (p: Page, email: string) => {
    await p.goto(`${baseUrl}/app/#/signin`);
    await p.getByLabel('E-mail').fill(email);
    await p.getByLabel('Password').fill(TEST_PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Sign out' }).waitFor();
  };
  /** axe-core over the page as it is now, in the light and the dark scheme: no serious or critical violation */
  const accessible = async (p: Page, name: string) => {
    for (const colorScheme of ['light', 'dark'] as const) {
      await p.emulateMedia({ colorScheme });
      const found = await axeViolations(p);
      if (found.length > 0) console.log(`axe, ${name} (${colorScheme}): ${JSON.stringify(found)}`);
      expect([name, colorScheme, blocking(found)]).toEqual([name, colorScheme, []]);
    }
    await p.emulateMedia({ colorScheme: 'light' });
  };
  const shot = async (p: Page, name: string, readme = false) => {
    const path = join(ARTIFACTS, `${name}.png`);
    await p.screenshot({ path, fullPage: false });
    if (readme && README) copyFileSync(path, join(README_IMAGES, `${name}.png`));
  };

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'fitstream-web-'));
    const built = build({
      configFile: WEB_CONFIG,
      logLevel: 'warn',
      build: { outDir: webRoot, emptyOutDir: true },
    });
    stack = await engagementStack();
    iso = await isolate({ env: { DATABASE_URL: stack.db.url } });
    gw = await startTestGateway({ TOPIC_SAMPLES: iso.topic, TOPIC_DLQ: iso.dlq, DATABASE_URL: stack.db.url });
    w = await startWorkerRuntime(iso.config, computeActivity, createLogger('worker-test', 'warn'));
    engagement = await startEngagement(
      { ...stack.config, TOPIC_ACTIVITIES: iso.activities },
      createLogger('engagement-test', 'warn'),
    );
    await built;
    auth = await testAuth();
    passwordHash = await hashPassword(TEST_PASSWORD);
    const telemetry = kafkaTelemetryProducer({
      brokers: iso.config.KAFKA_BROKERS,
      clientId: `web-test-${run}`,
      registryUrl: iso.config.SCHEMA_REGISTRY_URL,
      topic: iso.topic,
      logger: createLogger('api-test-kafka', 'silent'),
    });
    // file imports as a deployed API runs them: a runner on a queue of this run's, files kept in S3
    const e = parseEnv(s3Env);
    s3 = new S3Client({
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
      credentials: { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY },
    });
    const importQueue = `webtest-${run}`;
    const importStore = s3ImportStore(s3, e.S3_BUCKET, `webtest/imports/${importQueue}`);
    imports = new ImportRunner({
      pg: stack.db.pool,
      store: importStore,
      telemetry,
      logger: createLogger('web-test-imports', 'warn'),
      queue: importQueue,
      pollMs: 250,
    });
    // the leaderboards' points, as the API keeps them: its tables beside the worker's, a consumer of the
    // worker's activities.v1 and the first rules version computed at start
    await applyWorkerSchema(iso.ch, iso.database, 'api');
    points = new PointsConsumer(
      new Kafka({
        clientId: `web-test-points-${run}`,
        brokers: iso.config.KAFKA_BROKERS,
        logLevel: logLevel.ERROR,
      }),
      new PointsStore(stack.db.pool, iso.ch, iso.database, redis),
      { topic: iso.activities, groupId: `web-test-points-${run}`, catchUpMs: 1000 },
    );
    app = await buildApp({
      logger: createLogger('api-test', 'silent'),
      registry: createMetricsRegistry('web_test'),
      rateLimitPerMinute: 100_000,
      authRateLimits: { perIpPerMinute: 100_000, perAccountPer15Min: 100_000 },
      bodyLimitBytes: 1024 * 1024,
      checks: [],
      web: { root: webRoot, tileUrl: null },
      deps: {
        pg: stack.db.pool,
        redis,
        redisSub: () => new Redis(STACK.redis),
        clickhouse: iso.ch,
        clickhouseDatabase: iso.database,
        mqttPublicUrl: 'mqtt://127.0.0.1:1883',
        auth,
        telemetry,
        imports: { store: importStore, queue: importQueue, wake: () => imports.wake() },
      },
    });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    imports.start();
    await points.start();
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await imports?.close({ release: true });
    await points?.stop();
    s3?.destroy();
    await engagement?.close();
    await w?.close();
    await gw?.close();
    await iso?.cleanup();
    await stack?.cleanup();
    redis.disconnect();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  test('the API serves the app: index revalidated, hashed assets immutable, no route without a build', async () => {
    const index = await fetch(`${baseUrl}/app/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = /\/app\/assets\/[^"]+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    const js = await fetch(`${baseUrl}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${baseUrl}/app/assets/nothing-here.js`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/app/../package.json`)).status).toBe(404);
    const redirect = await fetch(`${baseUrl}/app`, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, '/app/']);
    expect(await (await fetch(`${baseUrl}/app/config.json`)).json()).toEqual({ tile_url: null });
  });

  test('register, sign out, sign in; the coach board shows live athletes, their numbers move, a revoked one leaves, a finished one is done', async () => {
    // the coach registers through the page
    const T = Date.now();
    const mark = (what: string) => console.log(`${what}: ${Date.now() - T} ms`);
    const p = await page();
    const coachEmail = `web-${run}-coach@example.com`;
    await p.goto(`${baseUrl}/app/#/register`);
    await p.getByLabel('Name').waitFor();
    await accessible(p, 'register');
    await p.getByLabel('Name').fill('Coach Carla');
    await p.getByLabel('E-mail').fill(coachEmail);
    await p.getByLabel(/^Password/).fill(TEST_PASSWORD);
    mark('register page');
    await p.getByRole('button', { name: 'Create account' }).click();
    await p.getByRole('button', { name: 'Sign out' }).click();
    mark('registered');
    await p.getByRole('heading', { name: 'Sign in' }).waitFor();
    await accessible(p, 'sign in');
    mark('signed out');
    await signInPage(p, coachEmail);
    mark('signed in');
    const coachId = (
      await stack.db.pool.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [coachEmail])
    ).rows[0]!.id;
    const coach: Account = {
      id: coachId,
      email: coachEmail,
      name: 'Coach Carla',
      auth: { authorization: `Bearer ${await tokenFor(auth.tokens, coachId)}` },
    };

    const ana = await account('Ana Runner');
    const ben = await account('Ben Rider');
    const outsider = await account('Olga Outsider');
    // Dora grants nothing: she is a member of the coach's club and shares her live sessions with its staff
    const dora = await account('Dora Member');
    const fred = await account('Fred Member');
    mark('signed up and in');
    await grant(ana, coach);
    const benGrant = await grant(ben, coach);
    const club = await inject('POST', '/v1/groups', coach, { name: "Carla's club", kind: 'club' });
    expect(club.status).toBe(201);
    // Fred joins too and shares nothing: membership alone puts nobody on the board
    expect((await inject('POST', '/v1/group-joins', fred, { join_code: club.body.join_code })).status).toBe(
      200,
    );
    const dp = await page();
    await signInPage(dp, dora.email);
    await dp.goto(`${baseUrl}/app/#/groups`);
    await dp.getByLabel('Join code').fill(club.body.join_code);
    await dp.getByRole('button', { name: 'Join' }).click();
    const sharing = dp.getByLabel("Share my live sessions with this group's owners and admins");
    await sharing.waitFor();
    expect(await sharing.isChecked()).toBe(false);
    await accessible(dp, 'groups');
    await sharing.check();
    const doraShares = async () =>
      (await inject('GET', `/v1/groups/${club.body.id}`, dora)).body.members.find(
        (m: { user_id: string }) => m.user_id === dora.id,
      ).share_live_with_staff;
    await expect.poll(doraShares, { timeout: 5_000 }).toBe(true);

    // simulated workouts over MQTT, one sample a second in real time, through gateway and worker
    const workouts = await Promise.all(
      [ana, ben, outsider, dora, fred].map(async (a, i) => {
        const deviceId = `web-${run}-${i}`;
        const token = await issueDeviceToken(stack.db.pool, a.id, deviceId, 'web test');
        const c = await mqtt.connectAsync(gw.url, {
          protocolVersion: 4,
          clientId: deviceId,
          username: deviceId,
          password: token,
          reconnectPeriod: 0,
        });
        return new LiveWorkout(c, deviceId, i === 1 ? 'cycling' : 'running', i + 1);
      }),
    );
    try {
      for (const wk of workouts) await wk.start();
      mark('workouts started');
      await p.goto(`${baseUrl}/app/#/board`);
      const card = (a: Account) => p.locator(`li.live-card[data-athlete="${a.id}"]`);
      await card(ana).waitFor({ timeout: 15_000 });
      await card(ben).waitFor({ timeout: 15_000 });
      await card(dora).waitFor({ timeout: 15_000 });
      mark('cards shown');
      expect(await card(ana).locator('h2').textContent()).toBe('Ana Runner');
      expect(await card(dora).locator('h2').textContent()).toBe('Dora Member');
      expect(await card(outsider).count()).toBe(0);
      expect(await card(fred).count()).toBe(0);

      // the numbers change within 2 s
      for (const a of [ana, ben, dora]) {
        for (const field of ['elapsed', 'distance']) {
          const cell = card(a).locator(`[data-field="${field}"]`);
          const before = await cell.textContent();
          await expect.poll(() => cell.textContent(), { timeout: 2_000, interval: 100 }).not.toBe(before);
        }
      }
      expect(await card(ana).locator('[data-field="pace"]').textContent()).toMatch(/\/km$/);
      expect(await card(ben).locator('[data-field="pace"]').textContent()).toMatch(/km\/h$/);
      expect(await card(ana).locator('[data-field="hr"]').textContent()).toMatch(/\d+ bpm/);

      await shot(p, 'coach-board', true);
      await accessible(p, 'board');

      // the keyboard reaches every card: Tab from the top of the page to Ana's, Enter opens her live charts
      await p.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()');
      const focusedCard = () =>
        p.evaluate(`document.activeElement?.closest('li.live-card')?.getAttribute('data-athlete') ?? null`);
      let tabs = 0;
      while ((await focusedCard()) !== ana.id && tabs < 40) {
        await p.keyboard.press('Tab');
        tabs++;
      }
      expect(await focusedCard()).toBe(ana.id);
      await p.keyboard.press('Enter');
      const detail = p.getByRole('region', { name: 'Ana Runner, live charts' });
      await detail.waitFor();
      // uPlot draws its canvas in an effect, after the region is in the page (CI once counted 0 at once)
      await expect
        .poll(() => p.locator('.detail .chart canvas').count(), { timeout: 2_000, interval: 50 })
        .toBeGreaterThanOrEqual(2);
      await accessible(p, 'board, live detail');
      await shot(p, 'coach-board-detail');
      // Escape closes it, and the focus goes back to her card
      await p.keyboard.press('Escape');
      await expect.poll(() => detail.count()).toBe(0);
      await expect.poll(focusedCard, { timeout: 1_000, interval: 50 }).toBe(ana.id);

      // Ben ends the grant: his card leaves within seconds, Ana's stays
      expect((await inject('DELETE', `/v1/coach-grants/${benGrant}`, ben)).status).toBe(204);
      const t0 = Date.now();
      await expect.poll(() => card(ben).count(), { timeout: 5_000, interval: 100 }).toBe(0);
      console.log(`revoked athlete left the board after ${Date.now() - t0} ms`);
      expect(await card(ana).count()).toBe(1);

      // Dora stops sharing on her page: her card leaves within seconds too
      await sharing.uncheck();
      const t1 = Date.now();
      await expect.poll(() => card(dora).count(), { timeout: 5_000, interval: 100 }).toBe(0);
      console.log(`member who stopped sharing left the board after ${Date.now() - t1} ms`);
      expect(await doraShares()).toBe(false);
      expect(await card(ana).count()).toBe(1);

      // Ana finishes: "done", with a link to the activity
      mark('revoked');
      await workouts[0]!.end();
      await expect
        .poll(() => card(ana).getAttribute('data-state'), { timeout: 10_000, interval: 200 })
        .toBe('done');
      const href = await card(ana).getByRole('link', { name: 'Activity' }).getAttribute('href');
      expect(href).toBe(`#/activities/${await card(ana).getAttribute('data-activity')}`);
      mark('done');
    } finally {
      for (const wk of workouts) await wk.close();
      await p.context().close();
      await dp.context().close();
    }
  }, 150_000);

  test('an uploaded GPX appears in the list with its distance, and the weekly goal bar moves', async () => {
    const athlete = await account('Ana Uploader');
    const p = await page();
    await signInPage(p, athlete.email);

    // a weekly distance goal, made on the page
    await p.goto(`${baseUrl}/app/#/goals`);
    await p.getByLabel('Kind').selectOption('distance');
    await p.getByLabel('Period').selectOption('week');
    await p.getByLabel('Target').fill('20');
    await p.getByRole('button', { name: 'Add goal' }).click();
    const bar = p.getByRole('progressbar');
    await bar.waitFor();
    expect(await bar.getAttribute('aria-valuenow')).toBe('0');
    await accessible(p, 'goals');
    // the bar's only animation is off under prefers-reduced-motion
    const transition = () =>
      p.evaluate(`getComputedStyle(document.querySelector('.bar .fill')).transitionDuration`);
    expect(await transition()).toBe('0.6s');
    await p.emulateMedia({ reducedMotion: 'reduce' });
    expect(await transition()).toBe('0s');
    await p.emulateMedia({ reducedMotion: 'no-preference' });

    const { samples, truth } = generateSession({
      sport: 'running',
      seed: 19,
      durationS: 900,
      startTs: Date.now() - 20 * 60_000,
      hrSpikeProbability: 0,
    });
    await p.goto(`${baseUrl}/app/#/upload`);
    await p.getByLabel('GPX file').setInputFiles({
      name: 'run.gpx',
      mimeType: 'application/gpx+xml',
      buffer: Buffer.from(gpxOf(samples, 'Lunch run')),
    });
    await accessible(p, 'upload');
    await p.getByRole('button', { name: 'Upload' }).click();
    await expect
      .poll(() => p.locator('[data-upload-status]').textContent(), { timeout: 60_000, interval: 500 })
      .toMatch(/^Ready\./);

    const list = (await inject('GET', '/v1/activities', athlete)).body.items as { distance_m: number }[];
    expect(list).toHaveLength(1);
    // the figure shown is the API's; the API's is the pipeline's estimate from noisy GPS (docs/algorithms.md)
    expect(Math.abs(list[0]!.distance_m - truth.distanceM) / truth.distanceM).toBeLessThan(0.15);
    await p.goto(`${baseUrl}/app/#/activities`);
    const row = p.locator('table.list tbody tr');
    await expect.poll(() => row.count(), { timeout: 5_000 }).toBe(1);
    expect(await row.locator('[data-field="distance"]').textContent()).toBe(
      `${(list[0]!.distance_m / 1000).toFixed(2)} km`,
    );
    // the sport filter asks the API again: no cycling here
    await p.getByLabel('Sport').selectOption('cycling');
    await p.getByText('No activities yet.').waitFor();
    await p.getByLabel('Sport').selectOption('running');
    await row.first().waitFor();
    await accessible(p, 'activities');

    // the activity page: route, charts, splits
    await row.getByRole('link').click();
    await p.getByRole('heading', { name: 'Lunch run' }).waitFor();
    await p.getByRole('img', { name: 'Route of the activity' }).waitFor();
    await p.getByRole('table', { name: 'Splits' }).waitFor();
    // elevation, pace and HR over the distance, from the activity's streams
    await p.getByRole('heading', { name: 'Over the distance' }).waitFor();
    await p.getByRole('img', { name: 'Elevation profile' }).waitFor();
    await p.getByRole('img', { name: 'Heart rate over the distance' }).waitFor();
    expect(await p.locator('.chart canvas').count()).toBeGreaterThanOrEqual(3);
    await shot(p, 'activity', true);
    await accessible(p, 'activity');

    // a tile URL in the config puts the route on a base map (Leaflet); here the config and the tiles are
    // answered by the browser itself, so nothing leaves the machine
    const tiles: string[] = [];
    await p.route('**/app/config.json', (r) =>
      r.fulfill({ json: { tile_url: 'http://tiles.invalid/{z}/{x}/{y}.png' } }),
    );
    await p.route('http://tiles.invalid/**', (r) => {
      tiles.push(r.request().url());
      return r.fulfill({ contentType: 'image/png', body: ONE_PIXEL_PNG });
    });
    await p.reload();
    await p.locator('.leaflet-container path.leaflet-interactive').waitFor();
    expect(tiles.length).toBeGreaterThan(0);
    expect(tiles[0]).toMatch(/^http:\/\/tiles\.invalid\/\d+\/\d+\/\d+\.png$/);
    await p.unrouteAll();

    // the goal's bar moves once the engagement service has counted the upload
    await expect
      .poll(
        async () => {
          await p.goto(`${baseUrl}/app/#/streaks`);
          await p.goto(`${baseUrl}/app/#/goals`);
          await bar.waitFor();
          return Number(await bar.getAttribute('aria-valuenow'));
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBeGreaterThan(0);
    const goal = (await inject('GET', '/v1/goals', athlete)).body.items[0];
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBe(Math.round(Math.min(100, goal.percent)));
    await shot(p, 'goals');
    await accessible(p, 'goals, after the upload');

    // an import on the page: a TCX file of an earlier ride, followed to "done" with its progress
    const ride = generateSession({
      sport: 'cycling',
      seed: 20,
      durationS: 600,
      startTs: Date.now() - 26 * 3600_000,
      hrSpikeProbability: 0,
    });
    await p.goto(`${baseUrl}/app/#/upload`);
    await p.getByLabel('GPX, TCX or FIT file, or a zip of many').setInputFiles({
      name: 'ride.tcx',
      mimeType: 'application/vnd.garmin.tcx+xml',
      buffer: Buffer.from(tcxOf(ride.samples)),
    });
    await p.getByRole('button', { name: 'Import' }).click();
    const progress = p.locator('[data-import-status]');
    await expect
      .poll(() => progress.getAttribute('data-import-status'), { timeout: 60_000, interval: 500 })
      .toBe('done');
    expect(await progress.textContent()).toMatch(
      /^done: 1 of 1 files, 1 activities created, 0 duplicates skipped, 0 failed/,
    );
    expect(
      await progress.getByRole('progressbar', { name: 'Import progress' }).getAttribute('aria-valuenow'),
    ).toBe('100');
    await shot(p, 'import');
    await accessible(p, 'upload, import done');
    // the imported ride is in the list, as the API has it
    const ridden = async () =>
      (
        (await inject('GET', '/v1/activities?sport=cycling', athlete)).body.items as { distance_m: number }[]
      )[0];
    await expect
      .poll(async () => (await ridden())?.distance_m ?? null, { timeout: 60_000, interval: 500 })
      .not.toBeNull();
    await p.goto(`${baseUrl}/app/#/activities`);
    await p.getByLabel('Sport').selectOption('cycling');
    await expect
      .poll(() => row.first().locator('[data-field="distance"]').textContent(), { timeout: 10_000 })
      .toBe(`${((await ridden())!.distance_m / 1000).toFixed(2)} km`);

    // the leaderboard of her group: her points for the week, as the API ranks them
    const team = await inject('POST', '/v1/groups', athlete, { name: 'Lunch runners', kind: 'team' });
    expect(team.status).toBe(201);
    const ranked = async () =>
      (await inject('GET', `/v1/leaderboards?period=week&group_id=${team.body.id}`, athlete)).body
        .entries as {
        user_id: string;
        points: number;
      }[];
    await expect
      .poll(async () => (await ranked())[0]?.points ?? 0, { timeout: 60_000, interval: 1_000 })
      .toBeGreaterThan(0);
    await p.goto(`${baseUrl}/app/#/leaderboards`);
    await p.getByLabel(/^Group/).selectOption({ label: 'Lunch runners' });
    const mine = p.locator('table.list tbody tr.me');
    await mine.waitFor();
    expect(await mine.locator('td').nth(1).textContent()).toBe('Ana Uploader');
    expect(await mine.locator('td').nth(2).textContent()).toBe(
      String(Math.round((await ranked())[0]!.points)),
    );
    await shot(p, 'leaderboards');
    await accessible(p, 'leaderboards');

    // phone width: nothing wider than the screen
    await p.setViewportSize({ width: 375, height: 800 });
    await p.goto(`${baseUrl}/app/#/activities`);
    await row.first().waitFor();
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await shot(p, 'activities-phone');
    await p.context().close();
  }, 120_000);

  test('300 live athletes on the board: frame times while every one updates each second', async () => {
    const coach = await account('Coach of 300');
    const athletes: string[] = [];
    for (let i = 0; i < 300; i++) athletes.push(randomUUID());
    await stack.db.pool.query(
      `INSERT INTO users (id, email, name) SELECT id, 'web-' || id || '@test.invalid', 'Athlete ' || ord
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`,
      [athletes],
    );
    await stack.db.pool.query(
      `INSERT INTO coach_grants (coach_id, athlete_id, coach_email, accepted_at)
       SELECT $1, id, $2, now() FROM unnest($3::uuid[]) AS t(id)`,
      [coach.id, coach.email, athletes],
    );
    // The worker's side of the live contract (schemas/live-keys.ts), written for 300 sessions at 1 Hz:
    // what is measured here is the API's board stream and the browser, not the pipeline.
    const sessions = athletes.map((userId, i) => ({ userId, activityId: randomUUID(), i }));
    const t0 = Date.now();
    const publish = async () => {
      const k = (Date.now() - t0) / 1000;
      const pipe = redis.pipeline();
      for (const s of sessions) {
        const angle = (s.i / 300) * 2 * Math.PI + k / 600;
        const snap = {
          activityId: s.activityId,
          userId: s.userId,
          deviceId: `d-${s.i}`,
          sessionId: 's',
          sport: s.i % 3 === 0 ? 'cycling' : 'running',
          status: 'active',
          ts: Date.now(),
          lat: 47.37 + 0.02 * Math.sin(angle) * (1 + s.i / 300),
          lon: 8.54 + 0.03 * Math.cos(angle) * (1 + s.i / 300),
          hr: 110 + (s.i % 70) + Math.round(5 * Math.sin(k)),
          speedMps: 3 + (s.i % 5) / 2,
          paceSPerKm: 1000 / (3 + (s.i % 5) / 2),
          distanceM: k * (3 + (s.i % 5) / 2),
          elapsedS: k,
          movingS: k,
          samples: Math.round(k),
        };
        pipe.hset(
          liveKeys.hash(s.activityId),
          Object.fromEntries(Object.entries(snap).map(([f, v]) => [f, String(v)])),
        );
        pipe.expire(liveKeys.hash(s.activityId), 300);
        pipe.zadd(liveKeys.active(s.userId), snap.ts, s.activityId);
        pipe.expire(liveKeys.active(s.userId), 300);
        pipe.publish(liveKeys.userChannel(s.userId), JSON.stringify(snap));
      }
      await pipe.exec();
    };
    await publish();
    const timer = setInterval(() => void publish(), 1000);
    const p = await page();
    try {
      await signInPage(p, coach.email);
      await p.goto(`${baseUrl}/app/#/board`);
      await expect
        .poll(() => p.locator('li.live-card[data-state="live"]').count(), { timeout: 20_000 })
        .toBe(300);
      // the same browser and machine, a page that draws nothing, measured over the same 8 s: what the machine
      // allows right now (measured one after the other, the machine's load could change in between: a run
      // gave the board p95 83.3 ms and the bare page after it 16.8 ms)
      const idle = await browser.newPage();
      await idle.setContent('<p>idle</p>');
      const [board, bare] = await Promise.all([frameTimes(p, 8_000), frameTimes(idle, 8_000)]);
      await idle.close();
      const stats = { board, bare };
      console.log(`board with 300 live athletes, 8 s: ${JSON.stringify(stats)} (frame times in ms)`);
      await shot(p, 'coach-board-300');
      // every athlete's figures still move
      const first = p.locator(`li.live-card[data-athlete="${athletes[0]}"] [data-field="elapsed"]`);
      const before = await first.textContent();
      await expect.poll(() => first.textContent(), { timeout: 2_000, interval: 100 }).not.toBe(before);
      // Smooth: 95 % of frames within 50 ms (20 frames a second), or within twice the bare page's p95 plus one
      // display frame (frame times come in whole 16.7 ms frames) when the machine itself stalls a page that
      // draws nothing (this 2-core machine is shared; the bound is what the board adds). Measured
      // (bench/results/web-board.md): this board p95 16.8 ms at load average 14–19, main's before the trail
      // layer 16.8–33.3 ms (83–483 ms reported of earlier runs under load); the board before it drew per
      // animation frame drew 9 frames in 8 s, which both bounds fail. In this test at load average ~15–18:
      // p95 66.6 ms against a bare page's 33.3 ms, and 83.3 ms against 16.8 ms (the bare page measured after
      // the board then, not beside it).
      const bound = Math.max(50, 2 * bare.p95 + 16.7);
      expect({ p95: board.p95, within: board.p95 <= bound }).toEqual({ p95: board.p95, within: true });
      expect(board.frames).toBeGreaterThanOrEqual(8 * 20 * 0.95);
    } finally {
      clearInterval(timer);
      await p.context().close();
      const pipe = redis.pipeline();
      for (const s of sessions) pipe.del(liveKeys.hash(s.activityId), liveKeys.active(s.userId));
      await pipe.exec();
    }
  }, 150_000);
});

const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  longTasks: number;
}

/** Frame-to-frame times (requestAnimationFrame) of a page over `ms`, and the long tasks (> 50 ms) meanwhile. */
function frameTimes(p: Page, ms: number): Promise<FrameStats> {
  // runs in the page: a string, so that neither the DOM's types nor a transform's helpers leak into it
  return p.evaluate(`new Promise((done) => {
    const deltas = [];
    let longTasks = 0;
    const obs = new PerformanceObserver((l) => { longTasks += l.getEntries().length; });
    obs.observe({ type: 'longtask', buffered: false });
    let last = performance.now();
    const end = last + ${ms};
    const frame = (t) => {
      deltas.push(t - last);
      last = t;
      if (t < end) return requestAnimationFrame(frame);
      obs.disconnect();
      const s = [...deltas].sort((a, b) => a - b);
      const q = (f) => Math.round(s[Math.min(s.length - 1, Math.floor(f * s.length))] * 10) / 10;
      done({ frames: s.length, p50: q(0.5), p95: q(0.95), max: q(1), longTasks });
    };
    requestAnimationFrame(frame);
  })`);
}

/** A device that publishes one sample a second in real time over MQTT, as a watch in a workout does. */
class LiveWorkout {
  private readonly sessionId = `s-${randomUUID()}`;
  private readonly samples: Sample[];
  private next = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly startTs = Date.now() - 10_000;

  constructor(
    private readonly c: MqttClient,
    private readonly deviceId: string,
    private readonly sport: 'running' | 'cycling',
    seed: number,
  ) {
    this.samples = generateSession({
      sport,
      seed,
      durationS: 900,
      startTs: this.startTs,
      hrSpikeProbability: 0,
    }).samples;
  }

  private pub(topic: string, body: unknown) {
    return this.c.publishAsync(topic, JSON.stringify(body), { qos: 1 });
  }

  private async flush() {
    const due: Sample[] = [];
    while (this.next < this.samples.length && this.samples[this.next]!.ts <= Date.now())
      due.push(this.samples[this.next++]!);
    if (due.length > 0)
      await this.pub(telemetryTopic(this.deviceId, 'json'), {
        sessionId: this.sessionId,
        sport: this.sport,
        samples: due,
      });
  }

  async start() {
    await this.pub(sessionTopic(this.deviceId), {
      sessionId: this.sessionId,
      kind: 'start',
      sport: this.sport,
      ts: this.startTs,
    });
    await this.flush();
    this.timer = setInterval(() => void this.flush().catch(() => {}), 1000);
  }

  async end() {
    clearInterval(this.timer);
    await this.flush();
    await this.pub(sessionTopic(this.deviceId), {
      sessionId: this.sessionId,
      kind: 'end',
      sport: this.sport,
      ts: this.samples[this.next - 1]!.ts,
    });
  }

  async close() {
    clearInterval(this.timer);
    await this.c.endAsync().catch(() => {});
  }
}

/** Samples as a Garmin TCX activity (one lap), as a watch's export has them. */
function tcxOf(samples: readonly Sample[]): string {
  const pts = samples
    .filter((s) => s.lat !== null && s.lon !== null)
    .map(
      (s) =>
        `<Trackpoint><Time>${new Date(s.ts).toISOString()}</Time><Position><LatitudeDegrees>${s.lat}</LatitudeDegrees><LongitudeDegrees>${s.lon}</LongitudeDegrees></Position>${
          s.alt === null ? '' : `<AltitudeMeters>${s.alt}</AltitudeMeters>`
        }${s.hr === null ? '' : `<HeartRateBpm><Value>${s.hr}</Value></HeartRateBpm>`}</Trackpoint>`,
    )
    .join('\n');
  const start = new Date(samples[0]!.ts).toISOString();
  return `<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
<Activities><Activity Sport="Biking"><Id>${start}</Id><Lap StartTime="${start}"><Track>
${pts}
</Track></Lap></Activity></Activities></TrainingCenterDatabase>`;
}

/** Samples as a GPX 1.1 track with Garmin's heart-rate extension. */
function gpxOf(samples: readonly Sample[], name: string): string {
  const pts = samples
    .filter((s) => s.lat !== null && s.lon !== null)
    .map(
      (s) =>
        `<trkpt lat="${s.lat}" lon="${s.lon}">${s.alt === null ? '' : `<ele>${s.alt}</ele>`}<time>${new Date(s.ts).toISOString()}</time>${
          s.hr === null
            ? ''
            : `<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>${s.hr}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions>`
        }</trkpt>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="fitstream-test" xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">
<trk><name>${name}</name><type>running</type><trkseg>
${pts}
</trkseg></trk></gpx>`;
}
