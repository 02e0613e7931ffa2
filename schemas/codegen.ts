// Generates schemas/types.gen.ts (TypeScript types) and schemas/avsc.gen.ts (the schemas as data, in
// dependency order) from schemas/*.avsc, the single source of truth.
//
//   npx tsx schemas/codegen.ts           write the generated files
//   npx tsx schemas/codegen.ts --check   exit 1 when a committed file differs (CI)
//
// Conventions the generator relies on (and enforces):
// - one named record per file, file name = record name, namespace fitstream.v1;
// - named types used by several records (Sample, StrengthSet) live in their own file and are
//   referenced by full name;
// - a string field may carry `"tsType": "<Name>"`, an export of schemas/vocabulary.ts that narrows
//   the TypeScript type (the Avro type stays string, see vocabulary.ts for why).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

const NAMESPACE = 'fitstream.v1';
const dir = dirname(fileURLToPath(import.meta.url));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface RawRecord {
  type: 'record';
  name: string;
  namespace: string;
  doc?: string;
  fields: RawField[];
}
interface RawField {
  name: string;
  type: Json;
  doc?: string;
  default?: Json;
  tsType?: string;
}

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

export interface Generated {
  files: Record<string, string>;
}

function fail(msg: string): never {
  throw new Error(`codegen: ${msg}`);
}

function loadSchemas(): Map<string, RawRecord> {
  const out = new Map<string, RawRecord>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()) {
    const raw = JSON.parse(readFileSync(join(dir, file), 'utf8')) as RawRecord;
    if (raw.type !== 'record') fail(`${file}: top-level type must be a record`);
    if (raw.namespace !== NAMESPACE) fail(`${file}: namespace must be ${NAMESPACE}`);
    if (`${raw.name}.avsc` !== file) fail(`${file}: record name ${raw.name} must match the file name`);
    out.set(raw.name, raw);
  }
  return out;
}

function shortName(ref: string): string {
  return ref.startsWith(`${NAMESPACE}.`) ? ref.slice(NAMESPACE.length + 1) : ref;
}

function refsOf(t: Json, acc: Set<string>): void {
  if (typeof t === 'string') {
    if (!(t in PRIMITIVES)) acc.add(shortName(t));
  } else if (Array.isArray(t)) {
    for (const b of t) refsOf(b, acc);
  } else if (t !== null && typeof t === 'object') {
    const kind = t.type;
    if (kind === 'array') refsOf(t.items ?? null, acc);
    else if (kind === 'map') refsOf(t.values ?? null, acc);
    else if (kind === 'record' || kind === 'enum' || kind === 'fixed')
      fail(`inline named type ${String(t.name)}: put it in its own .avsc file`);
    else if (typeof kind === 'string') refsOf(kind, acc);
  }
}

/** Records in an order where every record comes after the records it references. */
function dependencyOrder(schemas: Map<string, RawRecord>): RawRecord[] {
  const order: RawRecord[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') fail(`cycle through ${name}`);
    const rec = schemas.get(name) ?? fail(`${from} references unknown type ${name}`);
    state.set(name, 'visiting');
    const refs = new Set<string>();
    for (const f of rec.fields) refsOf(f.type, refs);
    for (const r of [...refs].sort()) visit(r, name);
    state.set(name, 'done');
    order.push(rec);
  };
  for (const name of [...schemas.keys()].sort()) visit(name, name);
  return order;
}

function tsOf(t: Json, tsType: string | undefined): string {
  if (typeof t === 'string') {
    if (t === 'string' && tsType) return tsType;
    return PRIMITIVES[t] ?? shortName(t);
  }
  if (Array.isArray(t)) {
    // `X | null` reads better than `null | X` (Avro puts null first so that it can be the default).
    const branches = t.map((b) => tsOf(b, tsType));
    return [...branches.filter((b) => b !== 'null'), ...branches.filter((b) => b === 'null')].join(' | ');
  }
  if (t !== null && typeof t === 'object') {
    if (t.type === 'array') {
      const inner = tsOf(t.items ?? null, tsType);
      return inner.includes('|') ? `Array<${inner}>` : `${inner}[]`;
    }
    if (t.type === 'map') return `Record<string, ${tsOf(t.values ?? null, tsType)}>`;
    if (typeof t.type === 'string') return tsOf(t.type, tsType);
  }
  return fail(`unsupported type ${JSON.stringify(t)}`);
}

function docComment(doc: string | undefined, indent: string): string {
  return doc ? `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n` : '';
}

export function generate(): Generated {
  const schemas = loadSchemas();
  const order = dependencyOrder(schemas);

  // Build every schema with avsc once, so a schema avsc refuses fails here and not at run time.
  const registry: Record<string, avro.Type> = {};
  for (const rec of order) avro.Type.forSchema(rec as unknown as avro.Schema, { registry });

  const vocab = new Set<string>();
  for (const rec of order) for (const f of rec.fields) if (f.tsType) vocab.add(f.tsType);

  const header =
    '// Generated by schemas/codegen.ts from schemas/*.avsc. Do not edit: run `npm run codegen`.\n';
  let types = header;
  if (vocab.size > 0) types += `import type { ${[...vocab].sort().join(', ')} } from './vocabulary.js';\n`;
  for (const rec of order) {
    types += `\n${docComment(rec.doc, '')}export interface ${rec.name} {\n`;
    for (const f of rec.fields) {
      types += `${docComment(f.doc, '  ')}  ${f.name}: ${tsOf(f.type, f.tsType)};\n`;
    }
    types += '}\n';
  }
  types +=
    '\n/** Every generated record type by its Avro name (without namespace). */\nexport interface AvroRecords {\n';
  for (const rec of order) types += `  ${rec.name}: ${rec.name};\n`;
  types += '}\n';

  let data = header;
  data += `\nexport const AVRO_NAMESPACE = '${NAMESPACE}';\n`;
  data += '\n/** The schemas as written in schemas/*.avsc, each after the ones it references. */\n';
  data += `export const AVRO_SCHEMAS = ${JSON.stringify(order, null, 2)} as const;\n`;

  return { files: { 'types.gen.ts': types, 'avsc.gen.ts': data } };
}

function main(): void {
  const check = process.argv.includes('--check');
  const { files } = generate();
  let stale = 0;
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) {
      stale++;
      process.stderr.write(`schemas/${name} is out of date: run \`npm run codegen\` and commit the result\n`);
    } else {
      writeFileSync(path, content);
      process.stdout.write(`wrote schemas/${name}\n`);
    }
  }
  if (stale > 0) process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
