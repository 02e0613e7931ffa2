import { describe, expect, test } from 'vitest';
import { liveKeys } from './live-keys.js';

// The worker writes these keys and channels and the API reads them: a change here is a change of the
// contract between two services (docs/analytics.md documents them).
describe('live-session keys and channels', () => {
  const activityId = '0b9f7a3e-4c1d-5e2f-8a9b-1c2d3e4f5a6b';
  const userId = '7d0c1b2a-3e4f-4a5b-9c6d-7e8f9a0b1c2d';

  test('layout', () => {
    expect(liveKeys.hash(activityId)).toBe(`fitstream:live:${activityId}`);
    expect(liveKeys.active(userId)).toBe(`fitstream:live:active:${userId}`);
    expect(liveKeys.sessionChannel(activityId)).toBe(`fitstream:live:session:${activityId}`);
    expect(liveKeys.userChannel(userId)).toBe(`fitstream:live:user:${userId}`);
  });

  test('a session hash never names a user set or a channel, whatever the ids', () => {
    const keys = [
      liveKeys.hash(activityId),
      liveKeys.active(activityId),
      liveKeys.sessionChannel(activityId),
      liveKeys.userChannel(activityId),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});
