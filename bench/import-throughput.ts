// Import throughput (issue 13): parse + publish of (a) one large FIT (a synthetic 24 h ride written with
// fit-file-parser's FitEncoder, 86 400 records) and (b) a zip of 500 files built from the real-recordings
// corpus (test/fixtures/import, .fit / .fit.gz / .tcx.gz / .gpx / .gpx.gz as they are stored), against the
// bare parse (the parser alone) in the same run. "publish" is what the import runner does per file:
// unzip/gunzip (services/api/imports.ts openUpload), parse, plan the records (planImportedActivity, the
// upload's record builder), and send them to a private telemetry topic of the local stack's Kafka through
// the API's idempotent acks=all producer (Avro through the schema registry); in a zip, as the runner does, the next
// file is read and planned while the one before is being sent. Two bare baselines in the same
// run: the parser alone ("vs bare parse"), and a raw Kafka produce of the same record bytes, encoded before
// the clock starts and sent in 512 KiB requests by a plain kafkajs producer with the API producer's settings
// ("vs raw produce": what the broker and client take for these bytes without any import work).
// Target: ≥ 500 000 points/s. Writes bench/results/import-throughput.{json,md}; the md keeps what follows its
// `<!-- notes -->` line (the profiles, by hand).
//   flock /tmp/fitstream-bench.lock npx tsx bench/import-throughput.ts
//   SMOKE=1 npx tsx bench/import-throughput.ts   (small: 50 files, a 1 h FIT, one round)

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { FitBaseType, FitEncoder } from 'fit-file-parser/encoder';
import { Kafka, logLevel } from 'kafkajs';
import { parseActivityFile } from '../pipelines/import/index.js';
import { avroTypes } from '../schemas/avro.js';
import { registerSchemas } from '../schemas/registry.js';
import { encodeTelemetryBatch } from '../schemas/telemetry-record.js';
import { encodeConfluent } from '../schemas/wire.js';
import { ImportParser } from '../services/api/import-prepare.js';
import {
  IMPORT_LIMITS,
  openUpload,
  planImportedActivity,
  type UploadEntry,
} from '../services/api/imports.js';
import { kafkaTelemetryProducer } from '../services/api/producer-kafka.js';
import { kafkaEnv, parseEnv } from '../services/common/config.js';
import { createLogger } from '../services/common/logger.js';
import { zipOf } from '../test/support/zips.js';

const SMOKE = process.env.SMOKE === '1';
const ROUNDS = SMOKE ? 1 : 2;
const ZIP_FILES = SMOKE ? 50 : 500;
const FIT_SECONDS = SMOKE ? 3600 : 86_400;
const TARGET = 500_000;
const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '..', 'test', 'fixtures', 'import');

/** A 1 Hz ride as a device writes it: file_id, one record per second (position, altitude, HR, cadence, distance, speed, power), session. */
function syntheticFit(seconds: number): Uint8Array {
  const start = Date.UTC(2026, 5, 1, 6, 0, 0);
  const t0 = FitEncoder.toFitTimestamp(new Date(start));
  const e = new FitEncoder();
  e.writeMessage(0, [
    { number: 0, size: 1, baseType: FitBaseType.Enum, value: 4 }, // type: activity
    { number: 1, size: 2, baseType: FitBaseType.Uint16, value: 1 }, // manufacturer: garmin
    { number: 4, size: 4, baseType: FitBaseType.Uint32, value: t0 },
  ]);
  const semi = (deg: number) => Math.round((deg * 2 ** 31) / 180);
  let dist = 0;
  for (let i = 0; i < seconds; i++) {
    const speed = 8 + 2 * Math.sin(i / 300);
    dist += speed;
    const a = i / 2000;
    e.writeMessage(
      20,
      [
        { number: 253, size: 4, baseType: FitBaseType.Uint32, value: t0 + i },
        { number: 0, size: 4, baseType: FitBaseType.Sint32, value: semi(47.3 + 0.05 * Math.sin(a)) },
        { number: 1, size: 4, baseType: FitBaseType.Sint32, value: semi(8.5 + 0.05 * Math.cos(a)) },
        {
          number: 2,
          size: 2,
          baseType: FitBaseType.Uint16,
          value: Math.round((450 + 30 * Math.sin(i / 900) + 500) * 5),
        },
        { number: 3, size: 1, baseType: FitBaseType.Uint8, value: 130 + (i % 30) },
        { number: 4, size: 1, baseType: FitBaseType.Uint8, value: 85 + (i % 7) },
        { number: 5, size: 4, baseType: FitBaseType.Uint32, value: Math.round(dist * 100) },
        { number: 6, size: 2, baseType: FitBaseType.Uint16, value: Math.round(speed * 1000) },
        { number: 7, size: 2, baseType: FitBaseType.Uint16, value: 180 + (i % 50) },
      ],
      1,
    );
  }
  e.writeMessage(18, [
    { number: 253, size: 4, baseType: FitBaseType.Uint32, value: t0 + seconds },
    { number: 2, size: 4, baseType: FitBaseType.Uint32, value: t0 }, // start_time
    { number: 5, size: 1, baseType: FitBaseType.Enum, value: 2 }, // sport: cycling
    { number: 7, size: 4, baseType: FitBaseType.Uint32, value: seconds * 1000 }, // total_elapsed_time
    { number: 8, size: 4, baseType: FitBaseType.Uint32, value: seconds * 1000 }, // total_timer_time
    { number: 9, size: 4, baseType: FitBaseType.Uint32, value: Math.round(dist * 100) }, // total_distance
  ]);
  return e.close();
}

/** The corpus as stored (gzip'd where the repository keeps it so), 500 entries in ten folders. */
async function corpusZip(n: number): Promise<{ zip: Buffer; files: { name: string; bytes: Buffer }[] }> {
  const names = readdirSync(FIXTURES).filter((f) => /\.(fit|tcx|gpx)(\.gz)?$/.test(f));
  const files = Array.from({ length: n }, (_, i) => {
    const f = names[i % names.length]!;
    return { name: `export/${String(i % 10)}/${i}-${f}`, bytes: readFileSync(join(FIXTURES, f)) };
  });
  return { zip: await zipOf(files), files };
}

const own = (b: Buffer) => (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);

interface Row {
  scenario: string;
  what: string;
  files: number;
  points: number;
  bytes: number;
  roundsMs: number[];
  /** the longest the event loop was held over the timed rounds */
  loopMaxMs: number;
  medianMs: number;
  pointsPerSec: number;
  vsBareParse: number | null;
  vsRawProduce: number | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** ROUNDS timed rounds, after one warm-up round when asked (the zip's rounds are long enough to warm themselves). */
/**
 * ROUNDS timed rounds, after one warm-up round when asked (the zip's rounds are long enough to warm themselves),
 * and the longest the event loop was held over the timed rounds (monitorEventLoopDelay, 10 ms resolution):
 * what a request to an API process doing this work would wait behind.
 */
async function timed(
  fn: () => Promise<number>,
  warmUp = true,
): Promise<{ ms: number[]; points: number; loopMaxMs: number }> {
  let points = warmUp ? await fn() : 0;
  const ms: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    points = await fn();
    ms.push(performance.now() - t);
  }
  loop.disable();
  return { ms, points, loopMaxMs: Math.round(loop.max / 1e6) };
}

async function main() {
  const env = parseEnv(kafkaEnv);
  const topic = `bench.import.${Date.now()}`;
  const kafka = new Kafka({ clientId: 'bench-import', brokers: env.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  const producer = kafkaTelemetryProducer({
    brokers: env.KAFKA_BROKERS,
    clientId: 'bench-import',
    registryUrl: env.SCHEMA_REGISTRY_URL,
    topic,
    logger: createLogger('bench', 'warn'),
  });
  // the bare baseline's producer: the API producer's settings (idempotent, one request in flight, acks = all)
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  const ids = await registerSchemas(new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL }));
  const SEND_BYTES = 512 * 1024;
  /** The Kafka messages of what publishFile sends for these files, encoded as the API producer encodes them. */
  const encodedOf = (list: Buffer[], user: string) => {
    const out: { key: string; value: Buffer }[] = [];
    let points = 0;
    for (const bytes of list) {
      let plans: ReturnType<typeof planImportedActivity>[];
      try {
        plans = parseActivityFile(bytes).activities.map((a, i) =>
          planImportedActivity(user, `raw-${i}-${bytes.length}`, i, a, 'running', Date.now()),
        );
      } catch {
        continue; // refused as a whole, as the runner refuses it
      }
      for (const plan of plans) {
        points += plan.points;
        for (const r of plan.records)
          out.push({
            key: plan.sessionId,
            value:
              r.name === 'TelemetryBatch'
                ? encodeTelemetryBatch(ids.TelemetryBatch, r.value)
                : encodeConfluent(ids.SessionControl, avroTypes.SessionControl, r.value),
          });
      }
    }
    return { messages: out, points };
  };
  const rawProduce = async (messages: { key: string; value: Buffer }[]) => {
    let batch: typeof messages = [];
    let bytes = 0;
    for (const m of messages) {
      if (bytes + m.value.length > SEND_BYTES && batch.length > 0) {
        await raw.send({ topic, acks: -1, messages: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(m);
      bytes += m.value.length;
    }
    if (batch.length > 0) await raw.send({ topic, acks: -1, messages: batch });
  };
  const rows: Row[] = [];
  const THREADS = Number(process.env.IMPORT_THREADS ?? 1);
  const AHEAD = Number(process.env.IMPORT_AHEAD ?? 3); // the runner's PREPARE_AHEAD
  const parser = new ImportParser(THREADS);
  const load0 = loadavg()[0]!;
  try {
    const fit = Buffer.from(syntheticFit(FIT_SECONDS));
    const { zip, files } = await corpusZip(ZIP_FILES);
    let round = 0;
    /** parse + plan, as the runner's prepare step: the plans of the activities the import accepts */
    const planFile = (bytes: Buffer, user: string) => {
      try {
        return parseActivityFile(bytes).activities.map((a, i) =>
          planImportedActivity(user, `${round}-${i}-${bytes.length}`, i, a, 'running', Date.now()),
        );
      } catch {
        // a file the import refuses (times going back in one of its activities) publishes nothing, as in the runner
        return [];
      }
    };
    const sendPlans = async (plans: ReturnType<typeof planFile>) => {
      let points = 0;
      for (const plan of plans) {
        await producer.send(plan.sessionId, plan.records);
        points += plan.points;
      }
      return points;
    };
    const publishFile = async (bytes: Buffer, user: string, send: boolean) => {
      const plans = planFile(bytes, user);
      return send ? sendPlans(plans) : plans.reduce((n, p) => n + p.points, 0);
    };
    /**
     * The zip as the import runner works through it: the next file read and planned while the one before it
     * is being sent, one file's records in flight at a time.
     */
    const publishZip = async (user: string) => {
      const u = await openUpload(zip);
      let n = 0;
      let inFlight: Promise<number> | undefined;
      try {
        for (const e of u.entries) {
          const plans = planFile(await e.read(), user);
          if (inFlight) n += await inFlight;
          inFlight = sendPlans(plans);
          inFlight.catch(() => {});
        }
        if (inFlight) n += await inFlight;
      } finally {
        u.close();
      }
      return n;
    };
    /**
     * What the runner does since the parser moved to a worker thread (services/api/import-prepare.ts): each
     * file's stored bytes go to the ImportParser's thread (unpack, parse, plan, encode) while the file before it
     * is being sent (producer.sendEncoded) from this thread.
     */
    const producerIds = await producer.schemaIds();
    const preparedOf = (entry: UploadEntry, user: string) =>
      entry.stored().then((stored) =>
        parser.prepare({
          stored,
          userId: user,
          defaultSport: 'running',
          receivedAt: Date.now(),
          limits: IMPORT_LIMITS,
          schemaIds: producerIds,
        }),
      );
    const sendPrepared = async (out: Awaited<ReturnType<typeof preparedOf>>) => {
      let points = 0;
      if (!out.ok) return 0;
      for (const a of out.activities) {
        await producer.sendEncoded(a.sessionId, a.values);
        points += a.points;
      }
      return points;
    };
    const publishThreaded = async (bytes: Buffer, user: string) => {
      const u = await openUpload(bytes);
      let n = 0;
      // up to AHEAD files in the parser while the one before them is sent
      const ahead: Promise<Awaited<ReturnType<typeof preparedOf>>>[] = [];
      let next = 0;
      const fill = () => {
        while (ahead.length < AHEAD && next < u.entries.length) {
          const p = preparedOf(u.entries[next++]!, user);
          p.catch(() => {});
          ahead.push(p);
        }
      };
      try {
        fill();
        while (ahead.length > 0) {
          const out = await ahead.shift()!;
          fill();
          n += await sendPrepared(out);
        }
      } finally {
        await Promise.allSettled(ahead);
        u.close();
      }
      return n;
    };
    const scenarios: {
      scenario: string;
      files: number;
      bytes: number;
      warmUp: boolean;
      /** the files' own bytes (gunzipped), for the raw produce baseline */
      own: Buffer[];
      bare: () => Promise<number>;
      steps: [string, () => Promise<number>][];
    }[] = [
      {
        scenario: `large FIT (${FIT_SECONDS} records, synthetic ride)`,
        files: 1,
        bytes: fit.length,
        warmUp: true,
        own: [fit],
        bare: async () => parseActivityFile(fit).activities.reduce((n, a) => n + a.samples.length, 0),
        steps: [
          ['parse + plan records', () => publishFile(fit, `u-plan-${round++}`, false)],
          ['parse + plan + publish to Kafka', () => publishFile(fit, `u-pub-${round++}`, true)],
          [
            'parse + plan + publish to Kafka, parsed in a worker thread (the runner)',
            () => publishThreaded(fit, `u-thr-${round++}`),
          ],
        ],
      },
      {
        scenario: `zip of ${ZIP_FILES} corpus files`,
        files: ZIP_FILES,
        bytes: zip.length,
        warmUp: false,
        own: files.map((f) => own(f.bytes)),
        bare: async () => {
          let n = 0;
          for (const f of files)
            for (const a of parseActivityFile(own(f.bytes)).activities) n += a.samples.length;
          return n;
        },
        steps: [
          [
            'unzip + parse + plan records',
            async () => {
              const u = await openUpload(zip);
              let n = 0;
              const user = `u-zplan-${round++}`;
              for (const e of u.entries) n += await publishFile(await e.read(), user, false);
              u.close();
              return n;
            },
          ],
          [
            'unzip + parse + plan + publish to Kafka, one file after the other (the runner before 542b93d)',
            async () => {
              const u = await openUpload(zip);
              let n = 0;
              const user = `u-zseq-${round++}`;
              for (const e of u.entries) n += await publishFile(await e.read(), user, true);
              u.close();
              return n;
            },
          ],
          ['unzip + parse + plan + publish to Kafka', () => publishZip(`u-zpub-${round++}`)],
          [
            'unzip + parse + plan + publish to Kafka, parsed in a worker thread (the runner)',
            () => publishThreaded(zip, `u-zthr-${round++}`),
          ],
        ],
      },
    ];
    for (const s of scenarios) {
      const bare = await timed(s.bare, s.warmUp);
      const bareRate = (bare.points / median(bare.ms)) * 1000;
      const { messages, points: rawPoints } = encodedOf(s.own, `u-raw-${round++}`);
      const rawT = await timed(async () => {
        await rawProduce(messages);
        return rawPoints;
      }, s.warmUp);
      const rawRate = (rawT.points / median(rawT.ms)) * 1000;
      const row = (what: string, t: { ms: number[]; points: number; loopMaxMs: number }): Row => ({
        scenario: s.scenario,
        what,
        files: s.files,
        points: t.points,
        bytes: s.bytes,
        roundsMs: t.ms.map((x) => Math.round(x)),
        loopMaxMs: t.loopMaxMs,
        medianMs: Math.round(median(t.ms)),
        pointsPerSec: Math.round((t.points / median(t.ms)) * 1000),
        vsBareParse: null,
        vsRawProduce: null,
      });
      rows.push(row('bare parse (parser alone)', bare));
      const rawRow = row(
        `bare Kafka produce of the same bytes (${messages.length} records, ${messages.reduce((n, m) => n + m.value.length, 0)} bytes, pre-encoded)`,
        rawT,
      );
      rows.push(rawRow);
      for (const [what, fn] of s.steps) {
        const r = row(what, await timed(fn, s.warmUp));
        r.vsBareParse = Number((r.pointsPerSec / bareRate).toFixed(2));
        if (what.includes('publish')) r.vsRawProduce = Number((r.pointsPerSec / rawRate).toFixed(2));
        rows.push(r);
      }
    }
  } finally {
    await parser.close();
    await producer.close();
    await raw.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavg1mStart: load0,
    loadavg1mEnd: loadavg()[0],
    rounds: ROUNDS,
    targetPointsPerSec: TARGET,
    smoke: SMOKE,
  };
  const out = join(here, 'results', SMOKE ? 'import-throughput.smoke' : 'import-throughput');
  writeFileSync(`${out}.json`, `${JSON.stringify({ meta, rows }, null, 2)}\n`);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here }).toString().trim();
  } catch {}
  const notesMark = '<!-- notes -->';
  const previous = existsSync(`${out}.md`) ? readFileSync(`${out}.md`, 'utf8') : '';
  const notes = previous.includes(notesMark) ? previous.slice(previous.indexOf(notesMark)) : '';
  const md = [
    '# Import throughput',
    '',
    `${meta.date}, commit ${commit}, Node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}, load (1 min) ${load0.toFixed(2)} → ${meta.loadavg1mEnd!.toFixed(2)}; median of ${ROUNDS} rounds (the FIT after one warm-up round). Target ≥ ${TARGET.toLocaleString('en')} points/s. Command: \`flock /tmp/fitstream-bench.lock npx tsx bench/import-throughput.ts\`.`,
    '',
    '| scenario | step | files | points | bytes | rounds ms | median ms | points/s | vs bare parse | vs raw produce | event loop held, max ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.what} | ${r.files} | ${r.points} | ${r.bytes} | ${r.roundsMs.join(', ')} | ${r.medianMs} | ${r.pointsPerSec.toLocaleString('en')} | ${r.vsBareParse ?? '—'} | ${r.vsRawProduce ?? '—'} | ${r.loopMaxMs} |`,
    ),
    '',
    notes,
  ].join('\n');
  writeFileSync(`${out}.md`, md);
  process.stdout.write(md);
}

await main();
