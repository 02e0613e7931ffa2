import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ImportError } from './errors.js';

/** A parsed XML element: attributes as '@_name', children by local name (namespace prefix removed). */
export type XmlNode = { [key: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[];

/**
 * Elements that may repeat, always returned as arrays so the parsers never branch on "one vs many".
 * Names are local (namespace prefixes are removed before matching).
 */
const REPEATED = new Set([
  'trk',
  'trkseg',
  'trkpt',
  'rte',
  'rtept',
  'wpt',
  'Activity',
  'Lap',
  'Track',
  'Trackpoint',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // No activity format needs DOCTYPE entities; tight caps on them keep an entity-expansion bomb
  // from costing more than the file's own size. External (SYSTEM) entities are never fetched.
  processEntities: { enabled: true, maxEntityCount: 20, maxEntitySize: 1000, maxExpandedLength: 100_000 },
  // jPath: false hands isArray a matcher instead of a path string built for every element, which
  // isArray ignores (the string building was 7.7 % self time in a profile of a 20 000-point GPX).
  jPath: false,
  isArray: (name) => REPEATED.has(name),
});

/** Bytes to text: BOM first, then the encoding named in the XML declaration, else UTF-8. */
export function decodeXml(bytes: Uint8Array): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return new TextDecoder('utf-16le').decode(bytes);
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return new TextDecoder('utf-16be').decode(bytes);
  }
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const enc = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
  let label = 'utf-8';
  if (enc && enc !== 'utf-8' && enc !== 'utf8') label = enc;
  try {
    return new TextDecoder(label, { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new ImportError('malformed_xml', `the file is not valid ${label} text`, { cause });
  }
}

/** Parses a whole XML document; returns the root element's local name and the element. */
export function parseXml(bytes: Uint8Array): { root: string; node: XmlNode } {
  const text = decodeXml(bytes);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new ImportError(
      'malformed_xml',
      `not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(text) as XmlNode;
  } catch (cause) {
    throw new ImportError('malformed_xml', `XML could not be parsed: ${(cause as Error).message}`, { cause });
  }
  const roots = Object.keys(doc).filter(
    (k) => !k.startsWith('#') && !k.startsWith('?') && !k.startsWith('!'),
  );
  if (roots.length !== 1)
    throw new ImportError('malformed_xml', 'the XML document has no single root element');
  const root = roots[0]!;
  const node = doc[root];
  return { root, node: typeof node === 'object' && !Array.isArray(node) ? node : {} };
}

/** Child element(s) by local name, always as an array of elements (text-only children become {'#text'}). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!node) return [];
  const v = node[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (typeof x === 'string' ? { '#text': x } : Array.isArray(x) ? {} : x));
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** Text content of a child element (or of the node itself when name is omitted). */
export function text(node: XmlNode | undefined, name?: string): string | null {
  if (!node) return null;
  const v = name === undefined ? node : node[name];
  if (v === undefined) return null;
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const t = first['#text'];
    return typeof t === 'string' ? t : null;
  }
  return null;
}

export function attr(node: XmlNode | undefined, name: string): string | null {
  const v = node?.[`@_${name}`];
  return typeof v === 'string' ? v : null;
}

/**
 * First leaf under `node` (depth-first, any depth up to 6) whose local name is one of `names`,
 * compared case-insensitively. Extensions nest their values at different depths depending on the
 * writer (Garmin TrackPointExtension, Cluetrust gpxdata, Strava's bare <power>).
 */
export function findLeaf(node: XmlNode | undefined, names: ReadonlySet<string>, depth = 0): string | null {
  if (!node || depth > 6) return null;
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('@_')) continue;
    const items = Array.isArray(v) ? v : [v];
    for (const it of items) {
      if (names.has(k.toLowerCase())) {
        const t = typeof it === 'string' ? it : text(it as XmlNode);
        if (t !== null) return t;
      }
      if (typeof it === 'object' && !Array.isArray(it)) {
        const r = findLeaf(it, names, depth + 1);
        if (r !== null) return r;
      }
    }
  }
  return null;
}
