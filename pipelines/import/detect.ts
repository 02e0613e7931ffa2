import { checkSize, resolveLimits } from './common.js';
import { ImportError } from './errors.js';
import { parseFit } from './fit.js';
import { parseGpx } from './gpx.js';
import { parseTcx } from './tcx.js';
import type { ImportFormat, ImportLimits, ImportResult } from './types.js';

/**
 * Which format the bytes are, from their content (never from a file name): a FIT header
 * ('.FIT' at byte 8), else the root element of an XML document (<gpx>, <TrainingCenterDatabase>).
 */
export function detectFormat(bytes: Uint8Array): ImportFormat | null {
  if (bytes.length >= 12 && (bytes[0] === 12 || bytes[0] === 14)) {
    if (bytes[8] === 0x2e && bytes[9] === 0x46 && bytes[10] === 0x49 && bytes[11] === 0x54) return 'fit';
  }
  const head = decodeHead(bytes.subarray(0, 4096));
  const m = /^<(?:[A-Za-z_][\w.-]*:)?(gpx|TrainingCenterDatabase)[\s>/]/.exec(stripProlog(head));
  if (!m) return null;
  return m[1] === 'gpx' ? 'gpx' : 'tcx';
}

/** Detects the format and parses with the matching parser. Pure: bytes in, records out. */
export function parseActivityFile(
  bytes: Uint8Array,
  opts: { format?: ImportFormat; limits?: Partial<ImportLimits> } = {},
): ImportResult {
  checkSize(bytes, resolveLimits(opts.limits));
  const format = opts.format ?? detectFormat(bytes);
  switch (format) {
    case 'fit':
      return parseFit(bytes, opts);
    case 'gpx':
      return parseGpx(bytes, opts);
    case 'tcx':
      return parseTcx(bytes, opts);
    default:
      throw new ImportError(
        'unknown_format',
        'not a FIT file and not an XML document with a <gpx> or <TrainingCenterDatabase> root',
      );
  }
}

function decodeHead(b: Uint8Array): string {
  if (b[0] === 0xff && b[1] === 0xfe) return new TextDecoder('utf-16le').decode(b);
  if (b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be').decode(b);
  return new TextDecoder('latin1').decode(b);
}

/** The first element after the XML declaration, comments, processing instructions and DOCTYPE. */
function stripProlog(s: string): string {
  let t = s.replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '').trimStart();
  for (;;) {
    const before = t;
    t = t
      .replace(/^<\?[\s\S]*?\?>/, '')
      .replace(/^<!--[\s\S]*?-->/, '')
      .replace(/^<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>/i, '')
      .trimStart();
    if (t === before) return t;
  }
}
