import { describe, expect, it } from 'vitest';
import { computeActivity, SessionAccumulator } from '../pipelines/index.js';
import { generateSession } from './synth/index.js';

// Smoke-sized run of the pipeline benchmark scenario (the full run is bench/pipeline-throughput.ts).
describe('pipeline throughput smoke', () => {
  it('runs the whole chain on a 30 min session and holds ≤ 64 B per sample', () => {
    const { samples } = generateSession({ sport: 'cycling', seed: 1, durationS: 1800 });
    const acc = new SessionAccumulator({ userId: 'u', deviceId: 'd', sessionId: 's', sport: 'cycling' });
    for (let i = 0; i < samples.length; i += 10) acc.add(samples.slice(i, i + 10));
    expect(acc.bytesHeld() / acc.length).toBeLessThanOrEqual(64);
    const a = acc.compute({}).summary;
    const b = computeActivity({
      userId: 'u',
      deviceId: 'd',
      sessionId: 's',
      sport: 'cycling',
      samples,
      controls: [],
      sets: [],
      athlete: {},
    }).summary;
    expect(a).toEqual(b);
  });
});
