// Micro-benchmark of the gateway's per-message schema work: validate a device payload
// (parseDeviceTelemetry) and frame the TelemetryBatch for Kafka (encodeConfluent). Single thread.
//
//   npx tsx bench/payload-validation.ts [seconds per case, default 2]
//
// The gateway's target is ~100k samples/s in total on 2 cores; this is the share of it spent here.
import { avroTypes, encodeAvro } from '../schemas/avro.js';
import { DEFAULT_LIMITS, type PayloadFormat, parseDeviceTelemetry } from '../schemas/payload.js';
import type { DeviceTelemetry, Sample } from '../schemas/types.gen.js';
import { encodeConfluent } from '../schemas/wire.js';

const seconds = Number(process.argv[2] ?? 2);
const NOW = Date.now();

function batch(n: number): DeviceTelemetry {
  const samples: Sample[] = [];
  for (let i = 0; i < n; i++) {
    samples.push({
      ts: NOW - (n - i) * 1000,
      seq: 1000 + i,
      lat: 48.85 + i * 1e-5,
      lon: 2.35 + i * 1.3e-5,
      alt: Math.fround(35.5 + i * 0.1),
      acc: Math.fround(4.5),
      speed: Math.fround(3.2),
      dist: 1000 + i * 3.2,
      hr: 140 + (i % 10),
      cadence: 172,
      power: null,
      lap: false,
    });
  }
  return { sessionId: 'run-2026-11-25-0001', sport: 'running', samples, sets: [] };
}

function run(format: PayloadFormat, n: number, frame: boolean) {
  const b = batch(n);
  const payload = format === 'json' ? Buffer.from(JSON.stringify(b)) : encodeAvro('DeviceTelemetry', b);
  const ctx = { deviceId: 'dev-1', userId: 'user-1', nowMs: NOW, limits: DEFAULT_LIMITS };
  let messages = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) {
      const r = parseDeviceTelemetry(format, payload, ctx);
      if (!r.ok) throw new Error(r.message);
      if (frame) encodeConfluent(1, avroTypes.TelemetryBatch, r.batch);
    }
    messages += 100;
  }
  const perS = messages / seconds;
  return {
    case: `${format} ${n} samples/msg${frame ? ' + encodeConfluent' : ''}`,
    bytes: payload.length,
    'messages/s': Math.round(perS),
    'samples/s': Math.round(perS * n),
  };
}

const rows = [];
for (const n of [10, 30, 120]) {
  for (const format of ['json', 'avro'] as const) {
    rows.push(run(format, n, false));
    rows.push(run(format, n, true));
  }
}
console.table(rows);
