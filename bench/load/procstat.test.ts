import { expect, test } from 'vitest';
import { parseStat, readProc } from './procstat.js';
import { percentiles } from './run.js';

test('parseStat reads utime + stime and RSS even when the command name holds spaces and parentheses', () => {
  // fields 3.. of a real line: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const fields = [
    'S',
    '1',
    '1',
    '1',
    '0',
    '-1',
    '4194560',
    '10',
    '0',
    '0',
    '0',
    '250',
    '50',
    '0',
    '0',
    '20',
    '0',
    '9',
    '0',
    '100',
    '123456789',
    '2560',
  ];
  const s = parseStat(`1234 (my (odd) name) ${fields.join(' ')} 18446744073709551615`);
  expect(s.cpuS).toBe(3);
  expect(s.rssBytes).toBe(2560 * 4096);
});

test('readProc sees this process burn CPU and hold memory; null for a pid that does not exist', () => {
  const a = readProc(process.pid)!;
  // burn 200 ms of CPU time (not of wall time: the machine may be busy)
  const u0 = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
    const u = process.cpuUsage(u0);
    if (u.user + u.system >= 200_000) break;
  }
  const b = readProc(process.pid)!;
  expect(x).toBeGreaterThan(0);
  expect(b.cpuS - a.cpuS).toBeGreaterThanOrEqual(0.1);
  expect(b.rssBytes).toBeGreaterThan(10 * 2 ** 20);
  expect(readProc(2 ** 22 + 12345)).toBeNull();
});

test('percentiles: nearest rank over the sorted values', () => {
  const v = Array.from({ length: 1000 }, (_, i) => 1000 - i);
  expect(percentiles(v)).toEqual({ n: 1000, p50: 501, p95: 951, p99: 991, max: 1000 });
  expect(percentiles([])).toEqual({ n: 0, p50: 0, p95: 0, p99: 0, max: 0 });
});
