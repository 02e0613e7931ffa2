import { describe, expect, it } from 'vitest';
import { gainLoss } from './elevation.js';

describe('elevation hysteresis', () => {
  it('counts climbs and descents beyond the threshold, ignores wiggles below it', () => {
    const alt = Float32Array.from([100, 101, 100, 101, 110, 109, 110, 95, 96, 95, 100]);
    expect(gainLoss(alt, 0, alt.length, 3)).toEqual({ gain: 15, loss: 15 });
  });
});
