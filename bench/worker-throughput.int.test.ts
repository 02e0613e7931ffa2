import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

// Smoke-sized run of bench/worker-throughput.ts (the full run stays out of the test command):
// the scenario works end to end and its report has every figure.
test('worker-throughput bench, smoke size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'worker-bench-'));
  try {
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/worker-throughput.ts',
        '--samples',
        '20000',
        '--session-s',
        '600',
        '--partitions',
        '3',
        '--out',
        join(dir, 'r'),
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], timeout: 170_000 },
    );
    const r = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(r.drain.samples).toBeGreaterThanOrEqual(20000);
    expect(r.drain.sampleRows).toBe(r.drain.samples);
    expect(r.drain.cleanedRows).toBe(r.drain.samples);
    expect(r.drain.activitiesWritten).toBe(r.drain.sessions);
    expect(r.drain.samplesPerS).toBeGreaterThan(0);
    expect(r.drain.workerCpuMsPer1kSamples).toBeGreaterThan(0);
    // (a) baseline and (b) worker alternating: every round's baseline stored every sample once
    expect(r.rounds).toHaveLength(2);
    for (const x of r.rounds) {
      expect(x.baseline.rows).toBe(r.drain.samples);
      expect(x.ratio).toBeGreaterThan(0);
    }
    expect(r.drain.storage.samples.filesPerPart).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('samples/s');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

// --workers 2: two worker processes in one consumer group drain the topic; same correctness checks,
// and the CPU is summed over both processes.
test('worker-throughput bench, smoke size, two worker processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'worker-bench-'));
  try {
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/worker-throughput.ts',
        '--samples',
        '20000',
        '--session-s',
        '600',
        '--partitions',
        '4',
        '--workers',
        '2',
        '--out',
        join(dir, 'r'),
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], timeout: 170_000 },
    );
    const r = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(r.config.workers).toBe(2);
    expect(r.drain.workerProcesses).toHaveLength(2);
    expect(r.drain.sampleRows).toBe(r.drain.samples);
    expect(r.drain.cleanedRows).toBe(r.drain.samples);
    expect(r.drain.activitiesWritten).toBe(r.drain.sessions);
    expect(r.drain.finaliseInputs.memory + r.drain.finaliseInputs.clickhouse).toBeGreaterThanOrEqual(
      r.drain.sessions,
    );
    expect(r.drain.workerCpuMsPer1kSamples).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'r.md'), 'utf8')).toContain('summed over 2 worker processes');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
