import { describe, expect, it } from 'vitest';
import { WakeableSleep } from './wakeable-sleep.js';

describe('WakeableSleep', () => {
  it('ends after its time, or at once when woken during it; a wake with nobody asleep changes nothing', async () => {
    const s = new WakeableSleep();
    let t = performance.now();
    await s.sleep(30);
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
    s.wake(); // nobody asleep
    t = performance.now();
    const p = s.sleep(10_000);
    setTimeout(() => s.wake(), 20);
    await p;
    expect(performance.now() - t).toBeLessThan(1_000);
    t = performance.now();
    await s.sleep(30); // the earlier wake is spent
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
  });
});
