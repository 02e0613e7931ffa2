import type { SessionControl, Sport } from '../../schemas/types.js';
import type { ImportedActivity } from './types.js';

/**
 * The pause/resume events of an imported activity as the SessionControl records the pipeline
 * reads (computeActivity's `controls`; telemetry.samples.v1 carries them beside the samples), so an
 * import's explicit device pauses win over auto-pause exactly as a live session's do.
 */
export function sessionControls(
  activity: ImportedActivity,
  ids: { deviceId: string; userId: string; sessionId: string; sport: Sport; receivedAt: number },
): SessionControl[] {
  return activity.events.map((e) => ({
    deviceId: ids.deviceId,
    userId: ids.userId,
    sessionId: ids.sessionId,
    kind: e.kind,
    sport: ids.sport,
    ts: e.ts,
    receivedAt: ids.receivedAt,
  }));
}
