import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { parseActivityFile } from '../../pipelines/import/index.js';
import { fixture } from '../../test/support/import-fixtures.js';
import { zeros, zipBomb, zipOf } from '../../test/support/zips.js';
import {
  contentHash,
  IMPORT_FILE_REASONS,
  IMPORT_LIMITS,
  IMPORT_REASONS,
  ImportArchiveError,
  type ImportLimitsApi,
  importedActivityId,
  importId,
  nameRank,
  openUpload,
  overlaps,
  planImportedActivity,
} from './imports.js';

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e) => (e as { code: string }).code,
  );
const readAll = async (bytes: Buffer, limits: ImportLimitsApi = IMPORT_LIMITS) => {
  const u = await openUpload(bytes, limits);
  const out: { name: string; result: string | Buffer }[] = [];
  for (const e of u.entries)
    out.push({ name: e.name, result: await e.read().catch((err) => err.code as string) });
  u.close();
  return out;
};

describe('openUpload', () => {
  const gpx = fixture('cerknicko-jezero.gpx');
  const fit = fixture('garmin-fenix-5-run.fit');
  const tcx = fixture('20210119_run_garmin_fenix6.tcx.gz');

  it('a single file, a gzip, and a zip of .fit/.fit.gz/.tcx/.gpx.gz in FIT, TCX, GPX order', async () => {
    expect((await readAll(Buffer.from(gpx)))[0]).toEqual({ name: 'upload', result: Buffer.from(gpx) });
    expect((await readAll(gzipSync(gpx)))[0]).toEqual({ name: 'upload.gz', result: Buffer.from(gpx) });
    const zip = await zipOf([
      { name: 'b/track.gpx.gz', bytes: gzipSync(gpx) },
      { name: 'notes.txt', bytes: Buffer.from('hello') },
      { name: 'a/run.tcx', bytes: tcx },
      { name: 'z/run.fit.gz', bytes: gzipSync(fit) },
      { name: 'y/run.fit', bytes: fit },
    ]);
    const got = await readAll(zip);
    expect(got.map((g) => g.name)).toEqual([
      'y/run.fit',
      'z/run.fit.gz',
      'a/run.tcx',
      'b/track.gpx.gz',
      'notes.txt',
    ]);
    // gzip inside the zip is undone: the same recording hashes the same either way
    expect(contentHash(got[0]!.result as Buffer)).toBe(contentHash(got[1]!.result as Buffer));
    expect(got[3]!.result).toEqual(Buffer.from(gpx));
  }, 30_000);

  it("reads every entry as yauzl's own inflate stream does: the whole corpus, stored and deflated", async () => {
    const dir = new URL('../../test/fixtures/import/', import.meta.url);
    const names = readdirSync(dir).filter((f) => /\.(fit|tcx|gpx)(\.gz)?$/.test(f));
    expect(names.length).toBeGreaterThan(20);
    const z = new yazl.ZipFile();
    for (const [i, f] of names.entries())
      z.addBuffer(readFileSync(new URL(f, dir)), `x/${f}`, { compress: i % 2 === 0 });
    z.addBuffer(Buffer.alloc(0), 'empty.gpx');
    z.end();
    const chunks: Buffer[] = [];
    for await (const c of z.outputStream) chunks.push(c as Buffer);
    const zip = Buffer.concat(chunks);
    // the library's way: yauzl inflates (and checks the size), then gzip inside is undone
    const expected = new Map<string, Buffer>();
    const zf = await new Promise<yauzl.ZipFile>((res, rej) =>
      yauzl.fromBuffer(zip, { lazyEntries: true }, (e, f) => (e || !f ? rej(e) : res(f))),
    );
    await new Promise<void>((res, rej) => {
      zf.on('entry', (entry: yauzl.Entry) =>
        zf.openReadStream(entry, (err, stream) => {
          if (err) return rej(err);
          const c: Buffer[] = [];
          stream.on('data', (x: Buffer) => c.push(x));
          stream.on('end', () => {
            const b = Buffer.concat(c);
            expected.set(entry.fileName, b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);
            zf.readEntry();
          });
        }),
      );
      zf.on('end', res);
      zf.readEntry();
    });
    const got = await readAll(zip);
    expect(got.map((g) => g.name).sort()).toEqual([...expected.keys()].sort());
    for (const g of got) expect(g.result, g.name).toEqual(expected.get(g.name));
  }, 30_000);

  it('refuses each limit with its code', async () => {
    const small = { ...IMPORT_LIMITS, maxFileBytes: 1000, maxEntries: 2, maxTotalBytes: 5000 };
    // one file over the per-file limit: plain, gzip'd, in a zip
    expect((await readAll(Buffer.alloc(1001, 0x20), small))[0]!.result).toBe('file_too_large');
    expect((await readAll(gzipSync(Buffer.alloc(1001, 0x20)), small))[0]!.result).toBe('file_too_large');
    expect(
      (await readAll(await zipOf([{ name: 'a.gpx', bytes: Buffer.alloc(1001) }]), small))[0]!.result,
    ).toBe('file_too_large');
    // too many entries, too many bytes altogether: the whole upload
    const three = await zipOf([1, 2, 3].map((i) => ({ name: `${i}.gpx`, bytes: Buffer.alloc(10) })));
    expect(await codeOf(openUpload(three, small))).toBe('archive_too_many_files');
    const big = await zipOf([1, 2].map((i) => ({ name: `${i}.gpx`, bytes: Buffer.alloc(3000) })));
    expect(await codeOf(openUpload(big, { ...small, maxFileBytes: 10_000 }))).toBe('archive_too_large');
    // broken compression
    const gz = gzipSync(gpx);
    expect((await readAll(gz.subarray(0, gz.length >> 1)))[0]!.result).toBe('corrupt_compression');
    const zip = await zipOf([{ name: 'a.gpx', bytes: gpx }]);
    expect(await codeOf(openUpload(zip.subarray(0, zip.length - 30)))).toBe('archive_corrupt');
    const bad = Buffer.from(zip);
    bad[60]! ^= 0xff; // inside the deflated data of the only entry
    expect((await readAll(bad))[0]!.result).toBe('corrupt_compression');
  }, 30_000);
});

describe('bombs are refused within bounded memory (peak RSS of a child process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fitstream-bombs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = new URL('../../test/support/bomb-rss.ts', import.meta.url).pathname;
  const run = async (file: string, mode: 'baseline' | 'open' | 'parse') => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, file, mode], {
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout) as { maxRssKiB: number; outcomes: string[] };
  };
  /** The peak RSS a bomb adds over reading its file: bounded, whatever it would unpack to. */
  const measure = async (name: string, bytes: Buffer, mode: 'open' | 'parse') => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const base = await run(file, 'baseline');
    const bomb = await run(file, mode);
    const addedMiB = (bomb.maxRssKiB - base.maxRssKiB) / 1024;
    console.log(
      `${name}: ${bytes.length} bytes, peak RSS ${(bomb.maxRssKiB / 1024).toFixed(0)} MiB, +${addedMiB.toFixed(1)} MiB over reading the file (${(base.maxRssKiB / 1024).toFixed(0)} MiB)`,
    );
    return { addedMiB, outcomes: bomb.outcomes };
  };

  it('zip bomb (entries of 80 MiB, and a directory that lies) and gzip bomb (1 GiB)', async () => {
    // the declared sizes are over the file limit: refused before a byte is inflated
    const honest = await zipBomb({ entries: 2, bytes: 80 * 1024 * 1024 });
    expect(honest.length).toBeLessThan(1024 * 1024);
    const zipHonest = await measure('honest.zip', honest, 'open');
    expect(zipHonest.outcomes).toEqual(Array(2).fill('file_too_large'));
    expect(zipHonest.addedMiB).toBeLessThan(32);
    // 128 MiB of zeros that the directory declares as 8 MiB: yauzl stops the entry past 8 MiB
    const lying = await zipBomb({ entries: 1, bytes: 128 * 1024 * 1024, lie: 8 * 1024 * 1024 });
    const zipLying = await measure('lying.zip', lying, 'open');
    expect(zipLying.outcomes).toEqual(['corrupt_compression']);
    expect(zipLying.addedMiB).toBeLessThan(48);
    // 64 gzip members of 16 MiB of zeros: 1 GiB unpacked (gunzip reads concatenated members as one file)
    const gz = Buffer.concat(Array(64).fill(await gzipOf(zeros(16 * 1024 * 1024))));
    const gzBomb = await measure('bomb.gpx.gz', gz, 'open');
    expect(gzBomb.outcomes).toEqual(['file_too_large']);
    // maxOutputLength stops at the file limit (64 MiB) + 1 byte
    expect(gzBomb.addedMiB).toBeLessThan(IMPORT_LIMITS.maxFileBytes / 1024 / 1024 + 48);
  }, 120_000);

  it('XML bomb (billion laughs: 10^9 expansions of "lol") is refused at its first reference', async () => {
    const levels = Array.from(
      { length: 9 },
      (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`,
    ).join('');
    const bomb = `<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY lol0 "lol">${levels}]><gpx version="1.1" creator="x"><trk><name>&lol9;</name></trk></gpx>`;
    const r = await measure('bomb.gpx', Buffer.from(bomb), 'parse');
    expect(r.outcomes).toEqual(['xml_entity_refused']);
    expect(r.addedMiB).toBeLessThan(32);
  }, 60_000);
});

function gzipOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const z = createGzip();
    z.on('data', (c: Buffer) => chunks.push(c));
    z.on('end', () => resolve(Buffer.concat(chunks)));
    z.on('error', reject);
    stream.pipe(z);
  });
}

describe('ids, ranks, overlap', () => {
  it('import and activity ids are UUIDs derived from the caller and the key', () => {
    const a = importId('u1', 'k');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(importId('u1', 'k')).toBe(a);
    expect(importId('u2', 'k')).not.toBe(a);
    expect(importedActivityId('u1', 'import:x:0')).not.toBe(importedActivityId('u2', 'import:x:0'));
  });
  it('FIT before TCX before GPX, gzip or not', () => {
    expect(['a.gpx', 'b.GPX.gz', 'c.tcx.gz', 'd.fit', 'e.txt'].map(nameRank)).toEqual([2, 2, 1, 0, 3]);
  });
  it('overlap of at least half the shorter recording', () => {
    const run = { startTs: 0, endTs: 3_600_000 };
    expect(overlaps(run, { startTs: 60_000, endTs: 3_660_000 })).toBe(true);
    expect(overlaps(run, { startTs: 1_700_000, endTs: 2_000_000 })).toBe(true); // inside
    expect(overlaps(run, { startTs: 3_000_000, endTs: 6_000_000 })).toBe(false); // 600 s of 2600 s
    expect(overlaps(run, { startTs: 3_600_001, endTs: 4_000_000 })).toBe(false);
  });
  it('closed lists of reasons', () => {
    expect(new Set(IMPORT_FILE_REASONS).size).toBe(IMPORT_FILE_REASONS.length);
    expect(IMPORT_REASONS).toContain(new ImportArchiveError('archive_corrupt', '').code);
  });
});

describe('planImportedActivity', () => {
  const a = parseActivityFile(fixture('hrv-activity.fit')).activities[0]!;
  it('the records of an upload: start, batches with source import, the timer pauses and laps, end', () => {
    const p = planImportedActivity('u', 'sha', 0, a, 'running', 1);
    expect(p.records[0]).toMatchObject({
      name: 'SessionControl',
      value: { kind: 'start', ts: a.samples[0]!.ts },
    });
    expect(p.records.at(-1)).toMatchObject({
      name: 'SessionControl',
      value: { kind: 'end', ts: a.samples.at(-1)!.ts },
    });
    const batches = p.records.filter((r) => r.name === 'TelemetryBatch');
    expect(batches.flatMap((b) => (b.name === 'TelemetryBatch' ? b.value.samples : []))).toEqual(a.samples);
    expect(batches.every((b) => b.name === 'TelemetryBatch' && b.value.source === 'import')).toBe(true);
    const kinds = p.records.flatMap((r) => (r.name === 'SessionControl' ? [r.value.kind] : []));
    expect(kinds.filter((k) => k === 'pause').length).toBe(a.events.filter((e) => e.kind === 'pause').length);
    expect(p.sport).toBe('cycling');
    expect(p.activityId).toBe(importedActivityId('u', 'import:sha:0'));
  });
  it('times going back are refused; an unknown sport becomes the default', () => {
    const back = {
      ...a,
      samples: a.samples.map((s, i) => (i === 10 ? { ...s, ts: a.samples[0]!.ts - 1 } : s)),
    };
    expect(() => planImportedActivity('u', 'sha', 0, back, 'running', 1)).toThrow(
      expect.objectContaining({ code: 'times_go_backwards' }),
    );
    const swim = planImportedActivity(
      'u',
      'sha',
      0,
      { ...a, sport: null, fileSport: 'swimming' },
      'walking',
      1,
    );
    expect([swim.sport, swim.sportDefaulted]).toEqual(['walking', true]);
  });
});

describe('docs/imports.md', () => {
  const doc = readFileSync(new URL('../../docs/imports.md', import.meta.url), 'utf8');
  it('documents every reason code of an import and of its files', () => {
    for (const code of [...IMPORT_FILE_REASONS, ...IMPORT_REASONS, 'attempts_exhausted'])
      expect(doc, code).toContain(`\`${code}\``);
  });
});
