import { activityIdFor, SessionAccumulator } from '../../pipelines/index.js';
import type { Sport } from '../../schemas/types.js';
import type { FlushBatch } from './ports.js';
import { sessionKey } from './records.js';

/**
 * Live state of sessions in progress, kept in memory and pushed to the LiveStore every
 * WORKER_LIVE_INTERVAL_MS (250 ms), apart from the durable flush (Worker.publishLive). It is a view for
 * coaches, not a record: Redis holds only what can be rebuilt, and the numbers users keep come from
 * finalisation over the durable samples.
 */
export interface LiveSnapshot {
  /**
   * The live session's identity (the Redis keys use it): the id of the activity this session
   * becomes, `activityIdFor(userId, deviceId, sessionId)`. The client session id alone is not unique.
   */
  activityId: string;
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

interface LiveEntry {
  acc: SessionAccumulator;
  userId: string;
  activityId: string;
  ended: boolean;
  lastTouched: number;
}

/**
 * Tracks every live session this worker sees with pipelines' SessionAccumulator (the same kernels
 * as the final numbers, incremental, columnar); `apply` returns the snapshots that changed.
 * Sessions leave on their end message, or after `idleMs` without records.
 */
export class LiveTracker {
  private readonly sessions = new Map<string, LiveEntry>();
  private lastEvict = 0;

  constructor(
    private readonly idleMs: number = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  apply(batch: FlushBatch): LiveSnapshot[] {
    const touched = new Set<LiveEntry>();
    const now = this.now();
    for (const r of batch.records) {
      const d = r.decoded;
      // a change of sport of a finished activity (the API's PATCH) is no live data
      if (d.kind === 'control' && d.control.kind === 'sport') continue;
      const s = d.kind === 'batch' ? d.batch : d.control;
      const k = sessionKey(s.deviceId, s.sessionId);
      let e = this.sessions.get(k);
      if (!e) {
        e = {
          acc: new SessionAccumulator({
            userId: s.userId,
            deviceId: s.deviceId,
            sessionId: s.sessionId,
            sport: s.sport as Sport,
            // about one reorder window of rows per session, not the whole session
            liveOnly: true,
          }),
          userId: s.userId,
          activityId: activityIdFor(s.userId, s.deviceId, s.sessionId),
          ended: false,
          lastTouched: now,
        };
        this.sessions.set(k, e);
      }
      e.lastTouched = now;
      if (d.kind === 'batch') e.acc.add(d.batch.samples);
      else {
        e.acc.control(d.control);
        if (d.control.kind === 'end') e.ended = true;
      }
      touched.add(e);
    }
    const out: LiveSnapshot[] = [];
    for (const e of touched) {
      const l = e.acc.live();
      out.push({
        activityId: e.activityId,
        userId: e.userId,
        deviceId: e.acc.deviceId,
        sessionId: e.acc.sessionId,
        sport: e.acc.sport,
        status: e.ended ? 'ended' : l.paused ? 'paused' : 'active',
        ts: l.ts ?? 0,
        lat: l.lat,
        lon: l.lon,
        hr: l.hr,
        speedMps: l.speedMps ?? 0,
        paceSPerKm: l.paceSPerKm,
        distanceM: l.distanceM,
        elapsedS: l.elapsedS,
        movingS: l.movingS,
        samples: l.sampleCount,
      });
      if (e.ended) this.sessions.delete(sessionKey(e.acc.deviceId, e.acc.sessionId));
    }
    if (now - this.lastEvict > 10_000) {
      this.lastEvict = now;
      for (const [k, e] of this.sessions) if (now - e.lastTouched > this.idleMs) this.sessions.delete(k);
    }
    return out;
  }

  /** Whether the session (`sessionKey(deviceId, sessionId)`) is tracked. */
  has(key: string): boolean {
    return this.sessions.has(key);
  }

  /** Stops tracking the session (its activity was deleted). */
  forget(key: string): void {
    this.sessions.delete(key);
  }

  get size(): number {
    return this.sessions.size;
  }

  bytesHeld(): number {
    let n = 0;
    for (const e of this.sessions.values()) n += e.acc.bytesHeld();
    return n;
  }
}
