import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';

// Smoke-sized run of bench/gateway-throughput.ts so the benchmark cannot rot: 50 connections, 2 s per run.
test('gateway benchmark smoke run', async () => {
  const out = join(tmpdir(), `gw-bench-smoke-${process.pid}`);
  await promisify(execFile)(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      'bench/gateway-throughput.ts',
      '--connections',
      '50',
      '--duration',
      '2',
      '--formats',
      'json,avro',
      '--rates',
      '200',
      '--out',
      out,
    ],
    { timeout: 90_000 },
  );
  const r = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as {
    rows: Array<{ connections: number; failedConnects: number; runs: Array<{ acked: number; dlq: number }> }>;
  };
  expect(r.rows[0]?.connections).toBe(50);
  expect(r.rows[0]?.failedConnects).toBe(0);
  expect(r.rows[0]?.runs).toHaveLength(4);
  for (const run of r.rows[0]!.runs) {
    expect(run.acked).toBeGreaterThan(0);
    expect(run.dlq).toBe(0);
  }
}, 120_000);
