import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4.patch (applied by `npm ci` through patch-package): unpatched, every kafkajs
// connection re-arms a 1 ms timer for ever once its first response arrived (kafkajs#1704), which cost an
// idle producer + consumer 4 % of a core here and printed a TimeoutNegativeWarning in every process (#1751).
const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (
  o: object,
) => {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  destroy(): void;
};
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () =>
  new RequestQueue({
    requestTimeout: 30_000,
    clientId: 'test',
    broker: 'localhost:9092',
    logger,
    maxInFlightRequests: 1,
  });

describe('kafkajs request queue (patched)', () => {
  it('arms no timer when nothing is pending and nothing throttles', () => {
    const q = queue();
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('still schedules a check while requests are pending, or a throttle is in force', () => {
    const q = queue();
    q.pending.push({});
    q.scheduleCheckPendingRequests();
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    q.destroy();

    const t = queue();
    t.throttledUntil = Date.now() + 1_000;
    t.scheduleCheckPendingRequests();
    expect(t.throttleCheckTimeoutId).not.toBeNull();
    t.destroy();
  });
});
