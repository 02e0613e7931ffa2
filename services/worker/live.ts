import type { Sample, SessionControl } from '../../schemas/types.js';
import type { FlushBatch } from './ports.js';
import { sessionKey } from './records.js';

/**
 * Live state of sessions in progress, kept in memory between flushes and pushed to the LiveStore
 * once per flush (≈ every second). It is a view for coaches, not a record: Redis holds only what
 * can be rebuilt, and the numbers users keep come from finalisation over the durable samples.
 */
export interface LiveSnapshot {
  userId: string;
  deviceId: string;
  sessionId: string;
  sport: string;
  status: 'active' | 'paused' | 'ended';
  /** device time of the latest sample, ms */
  ts: number;
  lat: number | null;
  lon: number | null;
  hr: number | null;
  /** m/s over the last ~10 s */
  speedMps: number;
  /** s/km over the last ~10 s; null when (nearly) stopped */
  paceSPerKm: number | null;
  distanceM: number;
  elapsedS: number;
  movingS: number;
  samples: number;
}

const R = 6_371_008.8;
const rad = Math.PI / 180;
function haversine(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

const MOVING_MPS = 0.5;
const MAX_MPS = 60;
const WINDOW_S = 10;

/** Per-session incremental figures: in-order samples only (late ones are left to finalisation). */
class LiveSession {
  startTs = Number.POSITIVE_INFINITY;
  lastTs = Number.NEGATIVE_INFINITY;
  lastLat: number | null = null;
  lastLon: number | null = null;
  lastFixTs = 0;
  hr: number | null = null;
  distanceM = 0;
  movingS = 0;
  samples = 0;
  paused = false;
  ended = false;
  /** (ts, cumulative distance) of recent fixes for the pace window */
  recent: [number, number][] = [];

  constructor(
    readonly userId: string,
    readonly deviceId: string,
    readonly sessionId: string,
    readonly sport: string,
  ) {}

  add(samples: readonly Sample[]): void {
    for (const s of samples) {
      if (s.ts <= this.lastTs) continue;
      if (this.startTs === Number.POSITIVE_INFINITY) this.startTs = s.ts;
      this.samples++;
      if (s.hr !== null && s.hr > 0) this.hr = s.hr;
      if (
        s.lat !== null &&
        s.lon !== null &&
        Math.abs(s.lat) <= 90 &&
        Math.abs(s.lon) <= 180 &&
        (s.lat !== 0 || s.lon !== 0)
      ) {
        if (this.lastLat !== null && this.lastLon !== null) {
          const d = haversine(this.lastLat, this.lastLon, s.lat, s.lon);
          const dt = (s.ts - this.lastFixTs) / 1000;
          const v = dt > 0 ? d / dt : 0;
          if (v <= MAX_MPS) {
            if (!this.paused) {
              this.distanceM += d;
              if (v >= MOVING_MPS) this.movingS += dt;
            }
          }
        }
        this.lastLat = s.lat;
        this.lastLon = s.lon;
        this.lastFixTs = s.ts;
        this.recent.push([s.ts, this.distanceM]);
        while (this.recent.length > 1 && s.ts - this.recent[0]![0] > WINDOW_S * 1000) this.recent.shift();
      }
      this.lastTs = s.ts;
    }
  }

  control(c: SessionControl): void {
    if (c.kind === 'pause') this.paused = true;
    else if (c.kind === 'resume') this.paused = false;
    else if (c.kind === 'end') this.ended = true;
    if (this.startTs === Number.POSITIVE_INFINITY && c.kind === 'start') this.startTs = c.ts;
  }

  snapshot(): LiveSnapshot {
    const first = this.recent[0];
    const last = this.recent[this.recent.length - 1];
    const span = first && last ? (last[0] - first[0]) / 1000 : 0;
    const speed = span > 0 && first && last ? (last[1] - first[1]) / span : 0;
    const started = Number.isFinite(this.startTs);
    return {
      userId: this.userId,
      deviceId: this.deviceId,
      sessionId: this.sessionId,
      sport: this.sport,
      status: this.ended ? 'ended' : this.paused ? 'paused' : 'active',
      ts: Number.isFinite(this.lastTs) ? this.lastTs : started ? this.startTs : 0,
      lat: this.lastLat,
      lon: this.lastLon,
      hr: this.hr,
      speedMps: Math.round(speed * 100) / 100,
      paceSPerKm: speed >= MOVING_MPS ? Math.round(1000 / speed) : null,
      distanceM: Math.round(this.distanceM * 10) / 10,
      elapsedS:
        started && Number.isFinite(this.lastTs) ? Math.max(0, (this.lastTs - this.startTs) / 1000) : 0,
      movingS: Math.round(this.movingS),
      samples: this.samples,
    };
  }
}

/** Tracks every live session this worker sees; `apply` returns the snapshots that changed. */
export class LiveTracker {
  private readonly sessions = new Map<string, LiveSession>();

  apply(batch: FlushBatch): LiveSnapshot[] {
    const touched = new Set<LiveSession>();
    for (const r of batch.records) {
      const d = r.decoded;
      const s = d.kind === 'batch' ? d.batch : d.control;
      const k = sessionKey(s.deviceId, s.sessionId);
      let live = this.sessions.get(k);
      if (!live) {
        live = new LiveSession(s.userId, s.deviceId, s.sessionId, s.sport);
        this.sessions.set(k, live);
      }
      if (d.kind === 'batch') live.add(d.batch.samples);
      else live.control(d.control);
      touched.add(live);
    }
    const out: LiveSnapshot[] = [];
    for (const live of touched) {
      out.push(live.snapshot());
      if (live.ended) this.sessions.delete(sessionKey(live.deviceId, live.sessionId));
    }
    return out;
  }

  /** Forget sessions that went quiet (finalised by timeout). */
  forget(deviceId: string, sessionId: string): void {
    this.sessions.delete(sessionKey(deviceId, sessionId));
  }

  get size(): number {
    return this.sessions.size;
  }
}
