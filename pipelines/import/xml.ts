import { SaxesParser } from 'saxes';
import { ImportError } from './errors.js';

/** A parsed XML element: attributes as '@_name', children by local name (namespace prefix removed). */
export type XmlNode = { [key: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[];

/**
 * Elements that may repeat, always returned as arrays so the parsers never branch on "one vs many".
 * Names are local (namespace prefixes are removed before matching).
 */
const REPEATED = new Set(['trk', 'trkseg', 'rte', 'Activity', 'Lap', 'Track']);

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

export interface StreamOptions {
  /** called with the root element's local name before anything else is read: throw to stop */
  onRoot?: (root: string) => void;
  /**
   * Local names of the per-point elements (trkpt, Trackpoint, ...). Each one is built as a small
   * XmlNode, handed to `onRecord` with the elements that enclose it (outermost first, still being
   * read: their attributes and earlier children are there) and their names, and then dropped — so memory holds one
   * point at a time, not the whole document.
   */
  records: ReadonlySet<string>;
  onRecord: (
    name: string,
    node: XmlNode,
    ancestors: readonly XmlNode[],
    ancestorNames: readonly string[],
  ) => void;
}

/**
 * Streams an XML document through a strict SAX parser (saxes: well-formedness errors carry line
 * and column; no DTD processing, so a DOCTYPE entity is an undefined entity, never expanded).
 * Returns the root element as a tree without the record elements.
 */
export function streamXml(bytes: Uint8Array, opts: StreamOptions): { root: string; node: XmlNode } {
  const text = decodeXml(bytes);
  const parser = new SaxesParser({ position: true, xmlns: false });
  const stack: XmlNode[] = [];
  const names: string[] = [];
  const texts: string[] = [];
  let root: string | null = null;
  let rootNode: XmlNode = {};
  let recordDepth = -1;

  parser.on('error', (err) => {
    // Entities declared in a DOCTYPE are never expanded (no DTD processing), so a reference to one is
    // undefined here: the billion-laughs bomb and external entities both end at their first reference.
    if (err.message.includes('undefined entity'))
      throw new ImportError(
        'xml_entity_refused',
        `an entity reference that is not one of XML's own five (DTD entities are not expanded): ${err.message}`,
        { cause: err },
      );
    throw new ImportError('malformed_xml', `not well-formed XML: ${err.message}`, { cause: err });
  });
  parser.on('opentag', (tag) => {
    const name = local(tag.name);
    if (root === null) {
      root = name;
      opts.onRoot?.(name);
    }
    const node: XmlNode = {};
    const attributes = tag.attributes as Record<string, string>;
    for (const k in attributes) node[attrKey(k)] = attributes[k]!;
    if (recordDepth < 0 && opts.records.has(name)) recordDepth = stack.length;
    stack.push(node);
    names.push(name);
    texts.push('');
  });
  const onText = (t: string) => {
    if (texts.length > 0) texts[texts.length - 1] += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    const node = stack.pop()!;
    const name = names.pop()!;
    const t = texts.pop()!.trim();
    const hasContent = hasKeys(node);
    if (t !== '') node['#text'] = t;
    const value: XmlValue = hasContent ? node : t;
    if (stack.length === recordDepth) {
      recordDepth = -1;
      opts.onRecord(name, hasContent ? node : { '#text': t }, stack, names);
      return;
    }
    const parent = stack[stack.length - 1];
    if (!parent) {
      rootNode = hasContent ? node : {};
      return;
    }
    const prev = parent[name];
    if (prev === undefined) parent[name] = REPEATED.has(name) ? [value] : value;
    else if (Array.isArray(prev)) prev.push(value);
    else parent[name] = [prev, value];
  });

  parser.write(text).close();
  if (root === null) throw new ImportError('malformed_xml', 'the XML document has no root element');
  return { root, node: rootNode };
}

// Element and attribute names repeat on every point: their local names are looked up, not sliced again.
const localNames = new Map<string, string>();
const attrKeys = new Map<string, string>();

function local(name: string): string {
  let l = localNames.get(name);
  if (l === undefined) {
    const i = name.indexOf(':');
    l = i < 0 ? name : name.slice(i + 1);
    if (localNames.size < 10_000) localNames.set(name, l);
  }
  return l;
}

/** '@_' + the local name of an attribute, the key parsers read it by. */
function attrKey(name: string): string {
  let k = attrKeys.get(name);
  if (k === undefined) {
    k = `@_${local(name)}`;
    if (attrKeys.size < 10_000) attrKeys.set(name, k);
  }
  return k;
}

function hasKeys(node: XmlNode): boolean {
  for (const _ in node) return true;
  return false;
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
