// CPU of an idle kafkajs producer + consumer, with the project's patch (patches/kafkajs+2.2.4.patch) and,
// in the same run, with kafkajs 2.2.4's own scheduleCheckPendingRequests put back (the baseline).
//
//   node --import tsx bench/kafkajs-idle.ts [--seconds 10] [--rounds 3]
//
// Each round forks one child per variant; a child connects a producer and a consumer to the local stack's
// Kafka, sends one record and reads it (so every connection has had a response), waits 5 s, then reports
// process.cpuUsage over --seconds of doing nothing. Unpatched, each connection re-arms a 1 ms timer forever
// (kafkajs#1704).
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
  allowPositionals: true,
});
const seconds = Number(values.seconds);

async function child(variant: string): Promise<void> {
  if (variant === 'upstream') {
    const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js');
    // kafkajs 2.2.4's method, as published
    RequestQueue.prototype.scheduleCheckPendingRequests = function (this: {
      throttledUntil: number;
      throttleCheckTimeoutId: NodeJS.Timeout | null;
      pending: unknown[];
      checkPendingRequests(): void;
    }) {
      let scheduleAt = this.throttledUntil - Date.now();
      if (!this.throttleCheckTimeoutId) {
        if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : 10;
        this.throttleCheckTimeoutId = setTimeout(() => {
          this.throttleCheckTimeoutId = null;
          this.checkPendingRequests();
        }, scheduleAt);
      }
    };
    process.removeAllListeners('warning');
  }
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ brokers, clientId: 'bench-idle', logLevel: logLevel.NOTHING });
  const topic = 'bench-kafkajs-idle';
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `bench-idle-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  let got: () => void = () => {};
  const read = new Promise<void>((r) => {
    got = r;
  });
  await consumer.run({ eachMessage: async () => got() });
  const send = setInterval(() => void producer.send({ topic, messages: [{ value: 'x' }] }), 500);
  await read;
  clearInterval(send);
  await new Promise((r) => setTimeout(r, 5_000));
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  const u = process.cpuUsage(u0);
  const pct = ((u.user + u.system) / 1_000 / (performance.now() - t0)) * 100;
  await consumer.disconnect();
  await producer.disconnect();
  process.send?.({ pct });
}

const run = (variant: string) =>
  new Promise<number>((resolve, reject) => {
    const c = fork(fileURLToPath(import.meta.url), ['child', variant], { execArgv: ['--import', 'tsx'] });
    c.on('message', (m: { pct: number }) => resolve(m.pct));
    c.on('exit', (code) => code !== 0 && reject(new Error(`${variant} child exited ${code}`)));
  });

if (process.argv[2] === 'child') await child(process.argv[3] ?? 'patched');
else {
  const rows: Record<string, number[]> = { patched: [], upstream: [] };
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const v of ['upstream', 'patched']) rows[v]?.push(await run(v));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  console.log(
    `load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; idle ${seconds} s, % of one core:`,
  );
  for (const [v, xs] of Object.entries(rows))
    console.log(`${v.padEnd(9)} median ${med(xs).toFixed(2)} %  (${xs.map((x) => x.toFixed(2)).join(', ')})`);
}
