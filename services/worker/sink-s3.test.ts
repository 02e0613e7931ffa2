import { describe, expect, test } from 'vitest';
import { archiveKeys, decodeLines, encodeLines, runLimited, windowLabel } from './sink-s3.js';

describe('raw archive layout', () => {
  test('object names', () => {
    const k = archiveKeys('raw', 'telemetry.samples.v1', 3, Date.UTC(2026, 10, 25, 15, 5), '120', '1999');
    expect(k.data).toBe(
      'raw/data/telemetry.samples.v1/p=003/w=20261125T1505/00000000000000000120-00000000000000001999.ndjson.gz',
    );
    expect(k.manifest).toBe(
      'raw/manifest/telemetry.samples.v1/p=003/w=20261125T1505/00000000000000000120-00000000000000001999.json',
    );
    expect(windowLabel(0)).toBe('19700101T0000');
  });

  test('lines are byte for byte what JSON.stringify of {o, t, k, v} gives', () => {
    const recs = [
      {
        topic: 't',
        partition: 0,
        offset: '0',
        key: Buffer.from('sess-1'),
        value: Buffer.from([0, 255, 7]),
        timestamp: 1_764_000_000_123,
      },
      { topic: 't', partition: 0, offset: '12345678901234', key: null, value: Buffer.alloc(0), timestamp: 0 },
      { topic: 't', partition: 0, offset: '1', key: Buffer.alloc(0), value: null, timestamp: 5 },
    ];
    const expected = recs
      .map((r) =>
        JSON.stringify({
          o: r.offset,
          t: r.timestamp,
          k: r.key ? r.key.toString('base64') : null,
          v: r.value ? r.value.toString('base64') : null,
        }),
      )
      .join('\n');
    expect(encodeLines(recs).toString()).toBe(`${expected}\n`);
  });

  test('lines round-trip exact bytes', () => {
    const recs = [
      {
        topic: 't',
        partition: 1,
        offset: '7',
        key: Buffer.from('k'),
        value: Buffer.from([0, 1, 2, 255]),
        timestamp: 9,
      },
      { topic: 't', partition: 1, offset: '8', key: null, value: null, timestamp: 10 },
    ];
    expect(decodeLines('t', 1, encodeLines(recs).toString())).toEqual(recs);
  });

  test('runLimited runs everything with bounded concurrency and reports the first error', async () => {
    let inFlight = 0;
    let peak = 0;
    const done: number[] = [];
    const jobs = Array.from({ length: 10 }, (_, i) => async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      done.push(i);
      if (i === 3) throw new Error('boom');
    });
    await expect(runLimited(jobs, 3)).rejects.toThrow('boom');
    expect(done).toHaveLength(10);
    expect(peak).toBe(3);
  });
});
