import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseActivityFile } from '../../pipelines/import/index.js';
import { avroTypes } from '../../schemas/avro.js';
import { encodeTelemetryBatch } from '../../schemas/telemetry-record.js';
import { encodeConfluent } from '../../schemas/wire.js';
import { zipOf } from '../../test/support/zips.js';
import { ImportParser, type PrepareOutput, prepareFile } from './import-prepare.js';
import { IMPORT_LIMITS, openUpload, planImportedActivity, unpack } from './imports.js';

const dir = new URL('../../test/fixtures/import/', import.meta.url);
const names = readdirSync(dir).filter((f) => /\.(fit|tcx|gpx)(\.gz)?$/.test(f));
const schemaIds = { TelemetryBatch: 7, SessionControl: 9 };
const base = {
  userId: 'u-1',
  defaultSport: 'running' as const,
  receivedAt: 1_700_000_000_000,
  limits: IMPORT_LIMITS,
  schemaIds,
};
/** values as hex, so that Buffers and views into one moved buffer compare by their bytes */
const bytesOf = (o: PrepareOutput) =>
  o.ok
    ? {
        ...o,
        activities: o.activities.map((a) => ({
          ...a,
          values: a.values.map((v) => Buffer.from(v).toString('hex')),
        })),
      }
    : o;

describe('prepareFile: one file to its encoded records', () => {
  const threaded = new ImportParser(1);
  afterAll(() => threaded.close());

  it('in a worker thread gives what it gives on this one, file by file, and what the producer would encode', async () => {
    const zip = await zipOf(names.map((f) => ({ name: f, bytes: readFileSync(new URL(f, dir)) })));
    const u = await openUpload(zip);
    let activities = 0;
    const refused: string[] = [];
    for (const e of u.entries) {
      const stored = await e.stored();
      const here = prepareFile({ ...base, stored });
      const there = await threaded.prepare({ ...base, stored });
      expect(bytesOf(there), e.name).toEqual(bytesOf(here));
      // the main-thread path the runner had: unpack, parse, plan, encode as producer-kafka does
      const own = await unpack(stored);
      const parsed = parseActivityFile(own);
      if (!here.ok) {
        refused.push(`${e.name}: ${here.reason}`);
        continue;
      }
      parsed.activities.forEach((a, i) => {
        const plan = planImportedActivity(base.userId, here.sha256, i, a, 'running', base.receivedAt);
        const act = here.activities[i]!;
        expect(act.activityId).toBe(plan.activityId);
        expect(act.points).toBe(plan.points);
        expect(act.values.map((v) => Buffer.from(v).toString('hex'))).toEqual(
          plan.records.map((r) =>
            (r.name === 'TelemetryBatch'
              ? encodeTelemetryBatch(schemaIds.TelemetryBatch, r.value)
              : encodeConfluent(schemaIds.SessionControl, avroTypes.SessionControl, r.value)
            ).toString('hex'),
          ),
        );
        activities++;
      });
    }
    u.close();
    // the corpus's one file whose clock goes back (docs/imports.md)
    expect(refused).toEqual([expect.stringMatching(/times_go_backwards$/)]);
    expect(activities).toBeGreaterThanOrEqual(names.length - 1);
  }, 60_000);

  it('a file it refuses gives the same reason code on both threads', async () => {
    const truncated = readFileSync(new URL('garmin-fenix-5-run.fit', dir)).subarray(0, 2000);
    const stored = { label: 'the upload', bytes: truncated, deflatedSize: null };
    const here = prepareFile({ ...base, stored });
    expect(here.ok).toBe(false);
    expect(await threaded.prepare({ ...base, stored })).toEqual(here);
    const lying = { label: 'x.gpx', bytes: Buffer.from([0x03, 0x00]), deflatedSize: 10 };
    const r = prepareFile({ ...base, stored: lying });
    expect(r.ok ? 'ok' : r.reason).toBe('corrupt_compression');
    expect(await threaded.prepare({ ...base, stored: lying })).toEqual(r);
  }, 30_000);
});
