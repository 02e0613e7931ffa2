// Load generator: streams simulated workouts from N devices through the gateway with the device client.
//
//   npx tsx bench/loadgen/main.ts --devices 50 --duration 60 [--rate 1] [--batch 1] [--format json|avro]
//     [--url mqtt://127.0.0.1:1883] [--protocol 4|5] [--anonymous] [--artefacts] [--cleanup] [--out counts.json]
//
// Bridge mode against the local Mosquitto (anonymous devices, no per-device accounts there):
//   --url mqtt://127.0.0.1:1884 --protocol 5 --anonymous
//
// Registers a fresh user with N devices directly in PostgreSQL (local runs; DATABASE_URL), then each device
// runs one session: start, `rate` samples per second sent in messages of `batch` samples, end. Sample
// timestamps follow the wall clock. At the end it prints what was sent and acknowledged per session, the
// figures a reconciliation (sent vs stored) compares against. The user and devices stay in PostgreSQL so the
// stored activities keep their owner; `--cleanup` deletes them at the end.
//
// `--artefacts` lets bench/synth inject its HR artefacts (0 / 255 bpm): the gateway refuses such a batch
// whole (hr_out_of_range), so they are off by default and every message should be accepted.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DeviceClient } from '../../services/gateway/device-client.js';
import { type SynthSport, sampleAt } from '../synth/index.js';
import { createFleet } from './devices.js';
import { LOADGEN_OPTIONS } from './options.js';

const { values: a } = parseArgs({ options: LOADGEN_OPTIONS });
const n = Number(a.devices);
const durationS = Number(a.duration);
const rate = Number(a.rate);
const batch = Number(a.batch);
const format = a.format === 'avro' ? 'avro' : 'json';
if (![n, durationS, rate, batch].every((x) => Number.isFinite(x) && x > 0)) {
  console.error('--devices, --duration, --rate and --batch must be positive numbers');
  process.exit(2);
}
const SPORTS: SynthSport[] = ['running', 'cycling', 'walking', 'hiking'];

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL ?? 'postgres://fitstream:fitstream@127.0.0.1:5432/fitstream',
  max: 2,
});
const fleet = await createFleet(pool, n, 'loadgen');
const runId = randomUUID().slice(0, 8);
console.error(
  `loadgen ${runId}: ${n} devices of user ${fleet.userId} -> ${a.url} (${format}, ${rate} Hz, ${batch}/msg, ${durationS} s)`,
);

interface SessionCount {
  deviceId: string;
  sessionId: string;
  sport: SynthSport;
  samplesSent: number;
  samplesAcked: number;
  messagesAcked: number;
  dropped: number;
  resent: number;
}
const counts: SessionCount[] = [];
const failed: string[] = [];
let stopping = false;
process.once('SIGINT', () => {
  stopping = true;
});

async function runDevice(k: number): Promise<void> {
  const d = fleet.devices[k]!;
  const sport = SPORTS[k % SPORTS.length]!;
  const sessionId = `${runId}-${k}`;
  const c: SessionCount = {
    deviceId: d.deviceId,
    sessionId,
    sport,
    samplesSent: 0,
    samplesAcked: 0,
    messagesAcked: 0,
    dropped: 0,
    resent: 0,
  };
  counts.push(c);
  // spread the devices over one send interval so they do not publish in lockstep
  const intervalMs = (batch / rate) * 1000;
  await new Promise((r) => setTimeout(r, (k / n) * intervalMs));
  const client = new DeviceClient({
    url: a.url,
    deviceId: d.deviceId,
    token: d.token,
    format,
    protocolVersion: a.protocol === '5' ? 5 : 4,
    anonymous: a.anonymous,
  });
  try {
    await client.connect();
  } catch (err) {
    failed.push(`${d.deviceId}: ${(err as Error).message}`);
    await client.close();
    return;
  }
  const startTs = Date.now();
  const opts = {
    sport,
    seed: k + 1,
    durationS: Math.max(1, Math.ceil(durationS * rate)),
    startTs,
    start: { lat: 46.52 + (k % 20) * 0.01, lon: 6.63 + Math.floor(k / 20) * 0.01 },
    ...(a.artefacts ? {} : { hrSpikeProbability: 0 }),
  };
  const acks: Promise<void>[] = [client.startSession(sessionId, sport, startTs)];
  const total = Math.floor(durationS * rate);
  for (let seq = 0; seq < total && !stopping; seq += batch) {
    const due = startTs + (seq / rate) * 1000 + intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const samples = [];
    for (let i = seq; i < Math.min(total, seq + batch); i++) {
      const s = sampleAt(opts, i);
      samples.push({ ...s, ts: startTs + Math.round((i / rate) * 1000) });
    }
    c.samplesSent += samples.length;
    acks.push(
      client.sendSamples(sessionId, sport, samples).then(
        () => {
          c.samplesAcked += samples.length;
          c.messagesAcked++;
        },
        () => {},
      ),
    );
  }
  acks.push(client.endSession(sessionId, sport, Date.now()));
  await Promise.allSettled(acks);
  c.dropped = client.stats.dropped;
  c.resent = client.stats.resent;
  await client.close();
}

const t0 = Date.now();
await Promise.all(fleet.devices.map((_, k) => runDevice(k)));
const summary = {
  runId,
  userId: fleet.userId,
  devices: n,
  format,
  elapsedS: (Date.now() - t0) / 1000,
  samplesSent: counts.reduce((s, c) => s + c.samplesSent, 0),
  samplesAcked: counts.reduce((s, c) => s + c.samplesAcked, 0),
  messagesAcked: counts.reduce((s, c) => s + c.messagesAcked, 0),
  dropped: counts.reduce((s, c) => s + c.dropped, 0),
  resent: counts.reduce((s, c) => s + c.resent, 0),
  refusedDevices: failed.length,
};
if (failed.length > 0)
  console.error(`refused: ${failed.slice(0, 3).join('; ')}${failed.length > 3 ? ' ...' : ''}`);
if (a.out) writeFileSync(a.out, `${JSON.stringify({ ...summary, sessions: counts }, null, 2)}\n`);
console.log(JSON.stringify(summary));
if (a.cleanup) await fleet.drop();
await pool.end();
