import { describe, expect, test } from 'vitest';
import { activityIdFor } from '../../pipelines/index.js';
import type { SessionRef, StoredActivity } from './ports.js';
import { sessionKey } from './records.js';
import { SessionRegistry } from './session-registry.js';

const ref = (i: number): SessionRef => ({
  userId: 'u',
  deviceId: `d${i}`,
  sessionId: `s${i}`,
  sport: 'running',
});
const key = (i: number) => sessionKey(`d${i}`, `s${i}`);

describe('SessionRegistry', () => {
  test('open sessions: touched, quiet after the timeout, closed when finalised; a rebalance keeps only owned ones', () => {
    const r = new SessionRegistry();
    r.touch(key(1), ref(1), 0, 1000);
    r.touch(key(2), ref(2), 1, 1000);
    r.touch(key(1), ref(1), 0, 5000);
    expect(r.openCount).toBe(2);
    expect(r.quiet(6000, 2000).map((s) => s.ref.sessionId)).toEqual(['s2']);
    r.closeSession(key(2));
    expect(r.isOpen(key(2))).toBe(false);
    r.touch(key(2), ref(2), 1, 6000);
    r.assign([1]);
    expect([r.isOpen(key(1)), r.isOpen(key(2))]).toEqual([false, true]);
  });

  test('recovery is due after assign, and stays due when a rebalance came while it was asked', () => {
    const r = new SessionRegistry();
    expect(r.recoveryDue()).toBeNull();
    r.assign([0, 1]);
    const asked = r.recoveryDue()!;
    expect([...asked]).toEqual([0, 1]);
    r.assign([1]); // a rebalance while the query ran
    r.recovered(
      asked,
      [
        { ...ref(3), partition: 0 },
        { ...ref(4), partition: 1 },
      ],
      100,
    );
    expect(r.recoveryDue()).not.toBeNull();
    expect([r.isOpen(key(3)), r.isOpen(key(4))]).toEqual([false, true]);
    r.recovered(r.recoveryDue()!, [], 200);
    expect(r.recoveryDue()).toBeNull();
  });

  test('versions: learnt ones remember their first version until announced; the oldest is evicted past the cache size', () => {
    const r = new SessionRegistry(2);
    r.remember(key(1), 5, 3);
    expect([r.isFinalised(key(1)), r.version(key(1)), r.unannouncedSince(key(1))]).toEqual([true, 5, 3]);
    r.remember(key(1), 6);
    expect(r.unannouncedSince(key(1))).toBeUndefined();
    r.remember(key(2), 1);
    r.remember(key(1), 7); // touched again: now the newest
    r.remember(key(3), 1);
    expect([r.isFinalised(key(1)), r.isFinalised(key(2)), r.isFinalised(key(3))]).toEqual([
      true,
      false,
      true,
    ]);
  });

  test('a stored id is noted only where it differs from the derived one', () => {
    const r = new SessionRegistry();
    const stored = (i: number, activityId: string): [string, StoredActivity] => [
      key(i),
      { deviceId: `d${i}`, sessionId: `s${i}`, activityId, version: 1, firstVersion: 1, day: '2026-12-01' },
    ];
    r.noteStoredIds(new Map([stored(1, 'legacy-id'), stored(2, activityIdFor('u', 'd2', 's2'))]), [
      ref(1),
      ref(2),
      ref(3),
    ]);
    expect([r.storedId(key(1)), r.storedId(key(2)), r.storedId(key(3))]).toEqual([
      'legacy-id',
      undefined,
      undefined,
    ]);
  });
});
