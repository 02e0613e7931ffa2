import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/support/import-fixtures.js';
import { IMPORT_ERRORS, type ImportErrorCode } from './errors.js';
import { detectFormat, ImportError, parseActivityFile, parseFit, parseGpx, parseTcx } from './index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): ImportErrorCode | 'no error' | 'untyped' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (!(e instanceof ImportError)) return 'untyped';
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.retryable).toBe(false);
    return e.code;
  }
}

// FIT files built byte by byte, so each failure is exactly the one named (CRC per the FIT protocol).
const CRC_T = [
  0x0000, 0xcc01, 0xd801, 0x1400, 0xf001, 0x3c00, 0x2800, 0xe401, 0xa001, 0x6c00, 0x7800, 0xb401, 0x5000,
  0x9c01, 0x8801, 0x4400,
];
function fitCrc(b: Uint8Array): number {
  let c = 0;
  for (const x of b) {
    let t = CRC_T[c & 0xf]!;
    c = ((c >> 4) & 0x0fff) ^ t ^ CRC_T[x & 0xf]!;
    t = CRC_T[c & 0xf]!;
    c = ((c >> 4) & 0x0fff) ^ t ^ CRC_T[(x >> 4) & 0xf]!;
  }
  return c;
}
function fitFile(data: number[]): Uint8Array {
  const b = new Uint8Array(14 + data.length + 2);
  b.set([14, 0x10, 0x08, 0x08], 0);
  new DataView(b.buffer).setUint32(4, data.length, true);
  b.set([0x2e, 0x46, 0x49, 0x54], 8);
  const hc = fitCrc(b.subarray(0, 12));
  b[12] = hc & 0xff;
  b[13] = hc >> 8;
  b.set(data, 14);
  const c = fitCrc(b.subarray(0, 14 + data.length));
  b[14 + data.length] = c & 0xff;
  b[15 + data.length] = c >> 8;
  return b;
}

const GPX_HEAD =
  '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">';

describe('typed errors for bad files', () => {
  const fit = fixture('garmin-fenix-5-bike.fit');
  const gpx = fixture('cerknicko-jezero.gpx');
  const tcx = fixture('20210119_run_garmin_fenix6.tcx.gz');

  it('empty_file', () => {
    for (const p of [parseGpx, parseTcx, parseFit, parseActivityFile])
      expect(codeOf(() => p(new Uint8Array()))).toBe('empty_file');
  });
  it('file_too_large: checked before any parsing', () => {
    const limits = { maxBytes: 1000 };
    expect(codeOf(() => parseGpx(gpx, { limits }))).toBe('file_too_large');
    expect(codeOf(() => parseTcx(tcx, { limits }))).toBe('file_too_large');
    expect(codeOf(() => parseFit(fit, { limits }))).toBe('file_too_large');
    expect(codeOf(() => parseActivityFile(fit, { limits }))).toBe('file_too_large');
    expect(codeOf(() => parseFit(fit, { limits: { maxFitBytes: 4000 } }))).toBe('file_too_large');
    expect(codeOf(() => parseGpx(gpx, { limits: { maxFitBytes: 1000 } }))).toBe('no error');
  });
  it('unknown_format', () => {
    expect(codeOf(() => parseActivityFile(utf8('lat,lon\n1,2\n')))).toBe('unknown_format');
    expect(codeOf(() => parseActivityFile(utf8('<?xml version="1.0"?><kml></kml>')))).toBe('unknown_format');
    expect(detectFormat(utf8('<html><body>gpx</body></html>'))).toBeNull();
  });
  it('malformed_xml', () => {
    expect(codeOf(() => parseGpx(utf8(`${GPX_HEAD}<trk><trkseg></trk></gpx>`)))).toBe('malformed_xml');
    expect(codeOf(() => parseTcx(utf8('<TrainingCenterDatabase><Activities>')))).toBe('malformed_xml');
    // a truncated download of a real file
    expect(codeOf(() => parseGpx(gpx.subarray(0, gpx.length >> 1)))).toBe('malformed_xml');
    // bytes that are not UTF-8
    expect(
      codeOf(() => parseGpx(new Uint8Array([...utf8(GPX_HEAD), 0xff, 0xfe, 0xfd, ...utf8('</gpx>')]))),
    ).toBe('malformed_xml');
  });
  it('not_gpx / not_tcx: the wrong parser for a well-formed file', () => {
    expect(codeOf(() => parseGpx(tcx))).toBe('not_gpx');
    expect(codeOf(() => parseTcx(gpx))).toBe('not_tcx');
  });
  it('not_fit', () => {
    expect(codeOf(() => parseFit(gpx))).toBe('not_fit');
    const noSig = fit.slice();
    noSig[9] = 0x58; // '.FXT'
    expect(codeOf(() => parseFit(noSig))).toBe('not_fit');
  });
  it('truncated_fit: cut anywhere after the header size byte', () => {
    for (const len of [5, 13, 100, fit.length >> 1, fit.length - 1]) {
      expect(codeOf(() => parseFit(fit.subarray(0, len)))).toBe('truncated_fit');
    }
  });
  it('fit_crc_mismatch: one flipped bit in the data or the header', () => {
    const data = fit.slice();
    data[200]! ^= 0x01;
    expect(codeOf(() => parseFit(data))).toBe('fit_crc_mismatch');
    const header = fit.slice();
    header[2]! ^= 0x01; // profile version byte, covered by the header CRC
    expect(codeOf(() => parseFit(header))).toBe('fit_crc_mismatch');
  });
  it('fit_decode_failed: a data message without a definition (CRCs valid)', () => {
    expect(codeOf(() => parseFit(fitFile([0x00, 1, 2, 3, 4])))).toBe('fit_decode_failed');
  });
  it('no_track_points', () => {
    expect(codeOf(() => parseGpx(utf8(`${GPX_HEAD}<rte><rtept lat="1" lon="2"/></rte></gpx>`)))).toBe(
      'no_track_points',
    );
    expect(
      codeOf(() => parseGpx(utf8(`${GPX_HEAD}<trk><trkseg><trkpt lat="1" lon="2"/></trkseg></trk></gpx>`))),
    ).toBe('no_track_points');
    expect(codeOf(() => parseTcx(utf8('<TrainingCenterDatabase><Courses/></TrainingCenterDatabase>')))).toBe(
      'no_track_points',
    );
    expect(codeOf(() => parseFit(fitFile([])))).toBe('no_track_points');
  });
  it('too_many_points: counted over the whole file, before samples pile up', () => {
    const limits = { maxPoints: 100 };
    expect(codeOf(() => parseGpx(gpx, { limits }))).toBe('too_many_points');
    expect(codeOf(() => parseTcx(tcx, { limits }))).toBe('too_many_points');
    expect(codeOf(() => parseFit(fixture('hrv-activity.fit'), { limits }))).toBe('too_many_points');
    expect(codeOf(() => parseFit(fit, { limits: { maxPoints: 19 } }))).toBe('no error');
  });
  it('xml_entity_refused: an XML entity bomb is refused, not expanded', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE gpx [${Array.from({ length: 30 }, (_, i) => `<!ENTITY e${i} "${'x'.repeat(900)}">`).join('')}]><gpx>${Array.from({ length: 30 }, (_, i) => `&e${i};`).join('')}</gpx>`;
    // no DTD processing: a declared entity is an undefined entity when referenced
    expect(codeOf(() => parseGpx(utf8(bomb)))).toBe('xml_entity_refused');
    expect(codeOf(() => parseTcx(utf8(bomb.replaceAll('gpx', 'TrainingCenterDatabase'))))).toBe(
      'xml_entity_refused',
    );
    // XML's own five are not entities of a DTD
    expect(
      codeOf(() => parseGpx(utf8(`${GPX_HEAD}<metadata><name>a &amp; b &lt;</name></metadata></gpx>`))),
    ).toBe('no_track_points');
  });
});

describe('docs/imports.md', () => {
  const doc = readFileSync(new URL('../../docs/imports.md', import.meta.url), 'utf8');
  it('documents every import error code', () => {
    for (const code of Object.keys(IMPORT_ERRORS)) expect(doc, code).toContain(`\`${code}\``);
  });
});
