// Load side of bench/gateway-throughput.ts, run as a child process so the gateway under test keeps its
// own core. Speaks raw MQTT 3.1.1 over net sockets (pre-framed PUBLISH packets, 4-byte PUBACK parsing):
// an mqtt.js client per connection would cost more CPU than the gateway we are measuring.
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { encodeAvro } from '../schemas/avro.js';
import { sampleAt } from './synth/index.js';

type Cmd =
  | {
      cmd: 'connect';
      host: string;
      port: number;
      devices: Array<{ deviceId: string; token: string }>;
      parallel: number;
    }
  | {
      cmd: 'load';
      format: 'json' | 'avro';
      durationS: number;
      inflight: number;
      samplesPerMessage: number;
      /** open loop: messages per second over all connections; 0 = closed loop (refill on every PUBACK) */
      rate: number;
    }
  | { cmd: 'close' };

const SLOTS = 256;

interface Conn {
  socket: Socket;
  deviceId: string;
  topicBytes: Buffer;
  nextId: number;
  sentAt: Float64Array;
  leftover: Buffer | null;
  inflight: number;
  onConnack: ((ok: boolean) => void) | null;
}

const conns: Conn[] = [];
let loadActive = false;
let onAck: ((c: Conn, id: number) => void) | null = null;

function send(m: unknown) {
  process.send?.(m);
}

function handleData(c: Conn, chunk: Buffer) {
  const buf = c.leftover ? Buffer.concat([c.leftover, chunk]) : chunk;
  let i = 0;
  while (buf.length - i >= 4) {
    const type = buf[i]! >> 4;
    if (type === 2) {
      // CONNACK: 0x20 0x02 flags rc
      c.onConnack?.(buf[i + 3] === 0);
      c.onConnack = null;
    } else if (type === 4) {
      const id = buf.readUInt16BE(i + 2);
      onAck?.(c, id);
    }
    i += 4;
  }
  c.leftover = i < buf.length ? buf.subarray(i) : null;
}

function openConn(host: string, port: number, d: { deviceId: string; token: string }): Promise<Conn | null> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    socket.setNoDelay(true);
    const topic = Buffer.from(`v1/devices/${d.deviceId}/telemetry/json`);
    const c: Conn = {
      socket,
      deviceId: d.deviceId,
      topicBytes: topic,
      nextId: 1,
      sentAt: new Float64Array(SLOTS + 1),
      leftover: null,
      inflight: 0,
      onConnack: (ok) => resolve(ok ? c : null),
    };
    socket.on('data', (chunk) => handleData(c, chunk));
    socket.on('error', () => resolve(null));
    socket.on('close', () => c.onConnack?.(false));
    socket.on('connect', () => {
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: d.deviceId,
          keepalive: 600,
          username: d.deviceId,
          password: Buffer.from(d.token),
        }),
      );
    });
  });
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** PUBLISH QoS 1 = 0x32, remaining length, topic (len-prefixed), message id, payload. */
function publishPacket(topic: Buffer, id: number, payload: Buffer): Buffer {
  const remaining = 2 + topic.length + 2 + payload.length;
  const head = varint(remaining);
  const out = Buffer.allocUnsafe(1 + head.length + remaining);
  let o = 0;
  out[o++] = 0x32;
  for (const b of head) out[o++] = b;
  out.writeUInt16BE(topic.length, o);
  o += 2;
  topic.copy(out, o);
  o += topic.length;
  out.writeUInt16BE(id, o);
  o += 2;
  payload.copy(out, o);
  return out;
}

function payloads(format: 'json' | 'avro', samplesPerMessage: number, variants = 64): Buffer[] {
  const startTs = Date.now() - 3_600_000;
  const out: Buffer[] = [];
  for (let v = 0; v < variants; v++) {
    const opts = { sport: 'running' as const, seed: v + 1, durationS: 7200, startTs, hrSpikeProbability: 0 };
    const samples = Array.from({ length: samplesPerMessage }, (_, i) =>
      sampleAt(opts, v * samplesPerMessage + i),
    );
    const sessionId = `bench-${v}`;
    out.push(
      format === 'avro'
        ? encodeAvro('DeviceTelemetry', { sessionId, sport: 'running', samples, sets: [] })
        : Buffer.from(JSON.stringify({ sessionId, sport: 'running', samples })),
    );
  }
  return out;
}

async function runLoad(
  format: 'json' | 'avro',
  durationS: number,
  inflight: number,
  spm: number,
  rate: number,
) {
  const bodies = payloads(format, spm);
  const suffix = Buffer.from(`/telemetry/${format}`);
  const topics = conns.map((c) => Buffer.concat([Buffer.from(`v1/devices/${c.deviceId}`), suffix]));
  let sent = 0;
  let acked = 0;
  const lat = new Float64Array(4_000_000);
  let nLat = 0;
  let bytes = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const deadline = t0 + durationS * 1000;
  const fire = (c: Conn, k: number) => {
    const id = c.nextId;
    c.nextId = id === SLOTS ? 1 : id + 1;
    // one session per connection, as a device streams one workout at a time (its Kafka key stays the same)
    const body = bodies[k % bodies.length]!;
    const pkt = publishPacket(topics[k]!, id, body);
    bytes += body.length;
    c.sentAt[id] = performance.now();
    c.inflight++;
    sent++;
    c.socket.write(pkt);
  };
  const index = new Map(conns.map((c, k) => [c, k]));
  loadActive = true;
  const done = new Promise<void>((resolve) => {
    onAck = (c, id) => {
      const now = performance.now();
      if (nLat < lat.length) lat[nLat++] = now - c.sentAt[id]!;
      acked++;
      c.inflight--;
      if (rate === 0 && now < deadline) fire(c, index.get(c)!);
      else if (now >= deadline && sent === acked) resolve();
    };
    setTimeout(
      () => {
        if (sent === acked) resolve();
      },
      durationS * 1000 + 50,
    );
  });
  let ticker: NodeJS.Timeout | null = null;
  if (rate === 0) {
    conns.forEach((c, k) => {
      for (let i = 0; i < inflight; i++) fire(c, k);
    });
  } else {
    // every 10 ms, the messages due, round robin over the connections (skipping ones at their in-flight cap)
    // paced by the clock, not by timer ticks (which drift under load): fire whatever is due by now
    let fired = 0;
    let rr = 0;
    ticker = setInterval(() => {
      const now = performance.now();
      if (now >= deadline) {
        if (ticker) clearInterval(ticker);
        return;
      }
      const due = Math.floor((rate * (now - t0)) / 1000) - fired;
      for (let i = 0, tries = 0; i < due && tries < conns.length; tries++) {
        const k = rr;
        rr = (rr + 1) % conns.length;
        if (conns[k]!.inflight >= inflight) continue;
        fire(conns[k]!, k);
        fired++;
        i++;
      }
    }, 10);
  }
  const drainTimeout = new Promise<void>((r) => setTimeout(r, durationS * 1000 + 30_000));
  await Promise.race([done, drainTimeout]);
  if (ticker) clearInterval(ticker);
  const elapsed = (performance.now() - t0) / 1000;
  loadActive = false;
  onAck = null;
  const l = lat.subarray(0, nLat).sort();
  const q = (p: number) => (nLat ? l[Math.min(nLat - 1, Math.floor(p * nLat))]! : 0);
  const cpu = process.cpuUsage(cpu0);
  send({
    type: 'load',
    format,
    loadCores: (cpu.user + cpu.system) / 1e6 / elapsed,
    sent,
    acked,
    // open loop: the offered window (messages sent in it and acknowledged during the drain count)
    elapsedS: rate > 0 ? durationS : elapsed,
    payloadBytes: bytes,
    latencyMs: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: nLat ? l[nLat - 1] : 0 },
  });
}

process.on('message', async (m: Cmd) => {
  if (m.cmd === 'connect') {
    const t0 = performance.now();
    let failed = 0;
    for (let i = 0; i < m.devices.length; i += m.parallel) {
      const batch = await Promise.all(
        m.devices.slice(i, i + m.parallel).map((d) => openConn(m.host, m.port, d)),
      );
      for (const c of batch) {
        if (c) conns.push(c);
        else failed++;
      }
    }
    send({ type: 'connected', connected: conns.length, failed, ms: performance.now() - t0 });
  } else if (m.cmd === 'load') {
    if (loadActive) return;
    await runLoad(m.format, m.durationS, m.inflight, m.samplesPerMessage, m.rate);
  } else if (m.cmd === 'close') {
    for (const c of conns) c.socket.destroy();
    conns.length = 0;
    send({ type: 'closed' });
  }
});
send({ type: 'ready' });
