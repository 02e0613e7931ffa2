import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { writeReport } from './report.js';
import { defaultLoadOptions, runLoad } from './run.js';
import { ROOT } from './stack.js';

// Smoke-sized load run (issue 18): 200 workouts for 24 s through a gateway and a worker process, with every
// fault the generator injects (dropouts replayed at reconnect, duplicate re-sends, out-of-order messages),
// then the reconciliation: every sample in ClickHouse exactly once, every workout one activity.
test('load run, smoke size: zero loss, zero duplicates, one activity per workout', async () => {
  const out = mkdtempSync(join(tmpdir(), 'load-smoke-'));
  try {
    const r = await runLoad(
      defaultLoadOptions({
        workouts: 200,
        minutes: 0.4,
        rampS: 3,
        perMessage: 2,
        threads: 0,
        tracers: 40,
        allServices: false,
        // every workout meets a dropout, and faults per message are frequent, so all paths run
        faults: { dropout: 0.5, duplicate: 0.05, reorder: 0.05 },
        settleS: 40,
        tickMs: 1000,
        logDir: out,
        progress: () => {},
      }),
    );
    const rec = r.reconciliation;
    expect(r.failures).toEqual([]);
    expect(r.workoutErrors).toEqual([]);
    expect(r.generator.connectErrors + r.generator.errors).toBe(0);
    expect(r.generator.duplicatesSent).toBeGreaterThan(0);
    expect(r.generator.reordered).toBeGreaterThan(0);
    expect(r.generator.replayedSamples).toBeGreaterThan(0);
    expect(rec.expectedSamples).toBe(200 * 25);
    expect(r.generator.samplesAcked).toBe(rec.expectedSamples);
    expect(rec.mismatches).toEqual([]);
    expect(rec.missingSamples).toBe(0);
    expect(rec.duplicateSamples).toBe(0);
    expect(rec.extraSamples).toBe(0);
    expect(rec.uniqueStored).toBe(rec.expectedSamples);
    expect(rec.finishedWorkouts).toBe(200);
    expect(rec.activities).toBe(200);
    expect(rec.workoutsWithSeveralActivities).toBe(0);
    expect(r.latency.deviceToClickhouseMs.n).toBeGreaterThan(0);
    expect(r.latency.deviceToLiveMs.n).toBeGreaterThan(0);
    expect(r.maxSockets).toBeGreaterThan(0);
    expect(Object.keys(r.steady.cpu)).toEqual(expect.arrayContaining(['gateway-0', 'worker-0', 'generator']));
    const { dir } = await writeReport(r, ROOT, out, 'smoke', join(out, 'no-baseline.json'));
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('missing 0, duplicates 0, extra 0');
    expect(readFileSync(join(dir, 'throughput.svg'), 'utf8')).toMatch(/^<svg/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);
