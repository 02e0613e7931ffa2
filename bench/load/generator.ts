// One generator thread (worker_threads): runs its share of the planned workouts against the gateway and
// keeps its counters in shared memory and reports a ledger per workout at the end (what a reconciliation compares with).
//
// A workout: session start; 1 Hz samples of a bench/synth session (sport speeds and stops, GPS noise and
// jumps, altitude, HR following effort) sent in messages of `perMessage` samples at the device time of the
// message's last sample; its faults from the plan: an offline window (the socket closes, samples wait in the
// device and are replayed in messages of up to REPLAY_CHUNK samples after the reconnect), duplicate re-sends
// of an acknowledged message, a message held back behind the next one; then session end, after every
// sample is acknowledged. Device time is the wall clock, so latencies are wall-clock differences.
import { parentPort, workerData } from 'node:worker_threads';
import type { Sample, Sport } from '../../schemas/types.js';
import type { PayloadFormat } from '../../services/gateway/topics.js';
import { generateSession } from '../synth/index.js';
import { Aggregator, type DeviceLink, SocketPerDevice } from './connections.js';
import { FaultDraws, type FaultRates, type WorkoutPlan } from './plan.js';

/** samples per message when a device replays its offline buffer */
export const REPLAY_CHUNK = 60;

export interface GeneratorInput {
  threadIndex: number;
  runId: string;
  runStart: number;
  url: string;
  protocolVersion: 4 | 5;
  anonymous: boolean;
  format: PayloadFormat;
  perMessage: number;
  /** devices per connection; > 1 needs bridge mode (connections.ts) */
  mux: number;
  faults: FaultRates;
  /**
   * wall-clock ms after which no workout starts and running ones send no more samples (they end their session
   * after what was sent, and the ledger says so): a run on an overloaded machine still stops in time
   */
  stopAt: number;
  /** COUNTER_KEYS.length float64 slots the thread keeps its counters in (countersOver) */
  shared?: SharedArrayBuffer;
  workouts: Array<{ plan: WorkoutPlan; deviceId: string; token: string; sessionId: string }>;
}

export interface GeneratorCounters {
  /** sample publishes, duplicates and replays included */
  samplesSent: number;
  /** distinct samples handed to the broker at least once */
  samplesUnique: number;
  /** distinct samples acknowledged at least once */
  samplesAcked: number;
  messagesSent: number;
  messagesAcked: number;
  duplicatesSent: number;
  reordered: number;
  replayedSamples: number;
  errors: number;
  connectErrors: number;
  /** MQTT sockets open now */
  sockets: number;
  maxSockets: number;
  workoutsStarted: number;
  workoutsFinished: number;
  /** workouts not started or stopped early at the run's deadline */
  workoutsCut: number;
}

export const COUNTER_KEYS = [
  'samplesSent',
  'samplesUnique',
  'samplesAcked',
  'messagesSent',
  'messagesAcked',
  'duplicatesSent',
  'reordered',
  'replayedSamples',
  'errors',
  'connectErrors',
  'sockets',
  'maxSockets',
  'workoutsStarted',
  'workoutsFinished',
  'workoutsCut',
] as const satisfies ReadonlyArray<keyof GeneratorCounters>;

/**
 * The counters as properties over a (shared) Float64Array: the thread writes them where it counts, the
 * monitor reads them at its own pace. A progress message per second was not enough: on a machine at load
 * 20 a busy thread's timers ran late, and the progress line showed 0 sent for many seconds, then a burst.
 */
export function countersOver(a: Float64Array): GeneratorCounters {
  const c = {} as GeneratorCounters;
  COUNTER_KEYS.forEach((k, i) => {
    Object.defineProperty(c, k, {
      enumerable: true,
      get: () => a[i]!,
      set: (v: number) => {
        a[i] = v;
      },
    });
  });
  return c;
}

export interface WorkoutLedger {
  index: number;
  deviceId: string;
  sessionId: string;
  sport: string;
  city: string;
  tracer: boolean;
  /** device time of seq 0, ms */
  t0: number;
  /** seqs 0..lastSeq were sent */
  lastSeq: number;
  samplesUnique: number;
  samplesAcked: number;
  duplicatesSent: number;
  reordered: number;
  dropout: { fromSeq: number; toSeq: number } | null;
  /** ground truth: haversine length of the noise-free track (bench/synth) */
  truthDistanceM: number;
  /** the end message was acknowledged */
  finished: boolean;
  /** stopped before its planned end at the run's deadline (seqs 0..lastSeq were sent) */
  cut?: boolean;
  error?: string;
}

/** the thread's last word; its counters live in `shared` all along */
export type GeneratorMessage = {
  type: 'done';
  thread: number;
  counters: GeneratorCounters;
  ledger: WorkoutLedger[];
};

const FIELDS = 9; // lat lon alt acc speed dist hr cadence power
function pack(samples: Sample[]): Float64Array {
  const a = new Float64Array(samples.length * FIELDS);
  samples.forEach((s, i) => {
    const o = i * FIELDS;
    a[o] = s.lat ?? Number.NaN;
    a[o + 1] = s.lon ?? Number.NaN;
    a[o + 2] = s.alt ?? Number.NaN;
    a[o + 3] = s.acc ?? Number.NaN;
    a[o + 4] = s.speed ?? Number.NaN;
    a[o + 5] = s.dist ?? Number.NaN;
    a[o + 6] = s.hr ?? Number.NaN;
    a[o + 7] = s.cadence ?? Number.NaN;
    a[o + 8] = s.power ?? Number.NaN;
  });
  return a;
}
const orNull = (x: number): number | null => (Number.isNaN(x) ? null : x);
function unpack(a: Float64Array, t0: number, from: number, to: number): Sample[] {
  const out: Sample[] = [];
  for (let i = from; i <= to; i++) {
    const o = i * FIELDS;
    out.push({
      ts: t0 + 1000 * i,
      seq: i,
      lat: orNull(a[o]!),
      lon: orNull(a[o + 1]!),
      alt: orNull(a[o + 2]!),
      acc: orNull(a[o + 3]!),
      speed: orNull(a[o + 4]!),
      dist: orNull(a[o + 5]!),
      hr: orNull(a[o + 6]!),
      cadence: orNull(a[o + 7]!),
      power: orNull(a[o + 8]!),
      lap: false,
    });
  }
  return out;
}

const sleepUntil = (t: number) => {
  const ms = t - Date.now();
  return ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve();
};

export async function runGenerator(
  input: GeneratorInput,
  report: (m: GeneratorMessage) => void,
): Promise<void> {
  const c = countersOver(new Float64Array(input.shared ?? new SharedArrayBuffer(COUNTER_KEYS.length * 8)));
  const aggregators: Aggregator[] = [];
  if (input.mux > 1) {
    for (let i = 0; i < input.workouts.length; i += input.mux) {
      aggregators.push(
        new Aggregator(input.url, `loadagg-${input.runId}-${input.threadIndex}-${i / input.mux}`),
      );
    }
    c.sockets = aggregators.length;
    c.maxSockets = aggregators.length;
  }
  const sockets = (d: number) => {
    c.sockets += d;
    if (c.sockets > c.maxSockets) c.maxSockets = c.sockets;
  };

  async function runWorkout(k: number): Promise<WorkoutLedger> {
    const w = input.workouts[k]!;
    const p = w.plan;
    const sport = p.sport as Sport;
    const L: WorkoutLedger = {
      index: p.index,
      deviceId: w.deviceId,
      sessionId: w.sessionId,
      sport: p.sport,
      city: p.city,
      tracer: p.tracer,
      t0: 0,
      lastSeq: -1,
      samplesUnique: 0,
      samplesAcked: 0,
      duplicatesSent: 0,
      reordered: 0,
      dropout: p.dropout,
      truthDistanceM: 0,
      finished: false,
    };
    // device time of seq 0 is planned, so the monitor knows every sample's send time without asking
    const t0 = input.runStart + p.startOffsetMs;
    await sleepUntil(t0);
    if (Date.now() > input.stopAt) {
      L.error = 'not started: the run was past its deadline';
      c.workoutsCut++;
      return L;
    }
    c.workoutsStarted++;
    L.t0 = t0;
    const synth = generateSession({
      sport: p.sport,
      seed: p.seed,
      durationS: p.durationS,
      startTs: t0,
      start: p.start,
      // 0 / 255 bpm artefacts make the gateway refuse the whole batch (hr_out_of_range): not the point here
      hrSpikeProbability: 0,
    });
    L.truthDistanceM = synth.truth.distanceM;
    const packed = pack(synth.samples);
    const D = p.durationS;
    let link: DeviceLink;
    if (input.mux > 1) link = aggregators[Math.floor(k / input.mux)]!.link(w.deviceId, input.format);
    else {
      const s = new SocketPerDevice({
        url: input.url,
        deviceId: w.deviceId,
        token: w.token,
        format: input.format,
        protocolVersion: input.protocolVersion,
        anonymous: input.anonymous,
      });
      try {
        await s.ready();
      } catch (err) {
        c.connectErrors++;
        L.error = `connect: ${(err as Error).message}`;
        await s.close();
        return L;
      }
      sockets(1);
      link = s;
    }
    const perDevice = input.mux <= 1;
    const failed = (err: unknown) => {
      c.errors++;
      L.error ??= (err as Error).message;
    };
    const faults = new FaultDraws(p.faultSeed, input.faults, !p.tracer);
    interface Msg {
      samples: Sample[];
      acked: boolean;
      dup: boolean;
    }
    const send = (m: Msg, isDup = false): void => {
      c.samplesSent += m.samples.length;
      c.messagesSent++;
      if (isDup) {
        c.duplicatesSent++;
        L.duplicatesSent++;
      } else {
        c.samplesUnique += m.samples.length;
        L.samplesUnique += m.samples.length;
      }
      link.sendSamples(w.sessionId, sport, m.samples).then(() => {
        c.messagesAcked++;
        if (!m.acked) {
          m.acked = true;
          c.samplesAcked += m.samples.length;
          L.samplesAcked += m.samples.length;
        }
        // a device that missed this PUBACK sends the message again
        if (m.dup && !isDup) send(m, true);
      }, failed);
    };
    link.control(w.sessionId, 'start', sport, t0).catch(failed);
    let held: Msg | null = null;
    let offline = false;
    let buffered: Sample[] = [];
    const replay = async () => {
      offline = false;
      try {
        await link.goOnline();
      } catch (err) {
        c.connectErrors++;
        failed(err);
      }
      if (perDevice) sockets(1);
      for (let i = 0; i < buffered.length; i += REPLAY_CHUNK) {
        const chunk = buffered.slice(i, i + REPLAY_CHUNK);
        c.replayedSamples += chunk.length;
        send({ samples: chunk, acked: false, dup: false });
      }
      buffered = [];
    };
    for (let first = 0; first <= D; first += input.perMessage) {
      const last = Math.min(D, first + input.perMessage - 1);
      await sleepUntil(t0 + last * 1000);
      if (Date.now() > input.stopAt) {
        L.cut = true;
        c.workoutsCut++;
        break;
      }
      const samples = unpack(packed, t0, first, last);
      L.lastSeq = last;
      const drop = p.dropout;
      if (drop && last >= drop.fromSeq && last < drop.toSeq) {
        if (!offline) {
          offline = true;
          if (held) {
            send(held);
            held = null;
          }
          await link.goOffline().catch(failed);
          if (perDevice) sockets(-1);
        }
        buffered.push(...samples);
        continue;
      }
      if (offline) await replay();
      const f = faults.next();
      const m: Msg = { samples, acked: false, dup: f.duplicate };
      if (held) {
        send(m);
        send(held);
        held = null;
      } else if (f.reorder && last < D) {
        held = m;
        c.reordered++;
        L.reordered++;
      } else send(m);
    }
    if (held) send(held);
    if (offline) await replay();
    // duplicates are sent on acknowledgement: wait until those are out too
    await link.flush().catch(failed);
    try {
      await link.control(w.sessionId, 'end', sport, t0 + D * 1000);
      L.finished = true;
    } catch (err) {
      failed(err);
    }
    c.workoutsFinished++;
    await link.close().catch(() => {});
    if (perDevice) sockets(-1);
    return L;
  }

  const ledger = await Promise.all(input.workouts.map((_, k) => runWorkout(k)));
  await Promise.all(aggregators.map((a) => a.close().catch(() => {})));
  c.sockets = 0;
  report({ type: 'done', thread: input.threadIndex, counters: { ...c }, ledger });
}

if (parentPort && workerData?.generator) {
  const port = parentPort;
  runGenerator(workerData.generator as GeneratorInput, (m) => port.postMessage(m)).catch((err) => {
    console.error(`generator thread ${(workerData.generator as GeneratorInput).threadIndex}:`, err);
    process.exit(1);
  });
}
