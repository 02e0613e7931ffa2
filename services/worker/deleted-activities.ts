import type pg from 'pg';
import { sessionKey } from './records.js';

/**
 * Which of the sessions `refs` belong to activities deleted through the API (PostgreSQL deleted_activities,
 * written by services/api/activity-deletion.ts before anything else of a deletion), as session keys: the
 * worker drops their records and never finalises them again, so a late sample does not bring a deleted
 * activity back. By session, not by activity id: an activity's id depends on when it was first stored
 * (pipelines' activityIdFor), its session does not.
 */
export type DeletedActivities = (
  refs: readonly { deviceId: string; sessionId: string }[],
) => Promise<ReadonlySet<string>>;

export function pgDeletedActivities(pool: pg.Pool): DeletedActivities {
  return async (refs) => {
    if (refs.length === 0) return new Set();
    const { rows } = await pool.query<{ device_id: string; session_id: string }>(
      `SELECT d.device_id, d.session_id FROM deleted_activities d
       JOIN unnest($1::text[], $2::text[]) AS s (device_id, session_id)
         ON d.device_id = s.device_id AND d.session_id = s.session_id`,
      [refs.map((r) => r.deviceId), refs.map((r) => r.sessionId)],
    );
    return new Set(rows.map((r) => sessionKey(r.device_id, r.session_id)));
  };
}

/** Every deleted activity's session key (the replay, which reads the whole archive, asks once). */
export async function allDeletedSessions(pool: pg.Pool): Promise<ReadonlySet<string>> {
  const { rows } = await pool.query<{ device_id: string; session_id: string }>(
    'SELECT device_id, session_id FROM deleted_activities WHERE session_id IS NOT NULL',
  );
  return new Set(rows.map((r) => sessionKey(r.device_id, r.session_id)));
}
