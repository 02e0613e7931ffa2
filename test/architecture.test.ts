// The import rules of docs/design.md ("Import rules"), checked on every file of the tree. The rules are
// written over folders, not file names, so a new service (services/<name>/) or a new file is covered the
// day it appears, without editing this test.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SKIP_DIRS = new Set(['node_modules', '.data', 'dist', '.git', 'coverage', 'results']);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const TEST_FILE = /\.test\.ts$/;

/**
 * The part a file belongs to, from its path relative to the root: `schemas`, `pipelines`, `bench/synth`,
 * `services/common`, `services/<name>`, or `free` (bench, test, scripts, infra, root files), which may
 * import anything.
 */
function partOf(path: string): string {
  const [top, second] = path.split('/');
  if (top === 'schemas' || top === 'pipelines') return top;
  if (top === 'services' && second !== undefined && path.split('/').length > 2) return `services/${second}`;
  if (top === 'bench' && second === 'synth') return 'bench/synth';
  return 'free';
}

/** Parts a non-test file of `part` may import (besides itself, node: built-ins and npm dependencies). */
function allowedTargets(part: string): readonly string[] | 'any' {
  if (part === 'free') return 'any';
  if (part === 'schemas') return ['schemas'];
  if (part === 'pipelines') return ['schemas', 'pipelines'];
  // The simulation with ground truth is shared by bench and tests; it depends on the contract only.
  if (part === 'bench/synth') return ['schemas', 'bench/synth'];
  // services/common is the services' leaf library: it may use the contract and the stages, never a service.
  if (part === 'services/common') return ['schemas', 'pipelines', 'services/common'];
  return ['schemas', 'pipelines', 'services/common', part];
}

/**
 * Why an import from `from` to `to` (both project files, relative to the root) is forbidden, or null when
 * it is allowed. A unit test beside its file follows its folder's rule, and may also use the test support
 * tree and the simulation; a test that crosses services lives in test/e2e/.
 */
function forbiddenEdge(from: string, to: string): string | null {
  const part = partOf(from);
  const allowed = allowedTargets(part);
  if (allowed === 'any') return null;
  const target = partOf(to);
  if (allowed.includes(target)) return null;
  const isTest = TEST_FILE.test(from);
  if (isTest && (to.startsWith('test/support/') || target === 'bench/synth')) return null;
  const may = [...allowed, ...(isTest ? ['test/support', 'bench/synth'] : [])].join(', ');
  return `${part}${isTest ? ' (test)' : ''} may import only ${may}`;
}

/** Why importing package `spec` from `from` is forbidden, or null. */
function forbiddenPackage(from: string, spec: string, dependencies: ReadonlySet<string>): string | null {
  if (partOf(from) === 'free' || TEST_FILE.test(from)) return null;
  if (spec.startsWith('node:')) return null;
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
  if (name !== undefined && dependencies.has(name)) return null;
  return `product code may import only node: built-ins and package.json dependencies, not '${spec}'`;
}

interface Import {
  spec: string | null; // null: a dynamic import() whose specifier is not a string literal
  line: number;
}

/** Every module specifier of a file: static imports, `export … from`, `import()`, `import('…').T`. */
function importsOf(fileName: string, text: string): Import[] {
  const src = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: Import[] = [];
  const add = (node: ts.Node, spec: string | null) =>
    out.push({ spec, line: src.getLineAndCharacterOfPosition(node.getStart(src)).line + 1 });
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node, node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      add(node, ts.isStringLiteral(e) ? e.text : null);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = node.arguments[0];
      add(node, a !== undefined && ts.isStringLiteralLike(a) ? a.text : null);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node, node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return out;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (SOURCE.test(name)) out.push(path);
  }
  return out;
}

/** The project file a relative specifier names (`./x.js` is written for `./x.ts`), or null. */
function resolveRelative(fromAbs: string, spec: string): string | null {
  const abs = resolve(dirname(fromAbs), spec);
  const candidates = [abs, abs.replace(/\.js$/, '.ts'), abs.replace(/\.mjs$/, '.mts'), `${abs}.ts`];
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  return null;
}

const rel = (abs: string) => relative(ROOT, abs).split(sep).join('/');

function violations(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  const out: string[] = [];
  for (const abs of sourceFiles(ROOT)) {
    const from = rel(abs);
    for (const { spec, line } of importsOf(abs, readFileSync(abs, 'utf8'))) {
      const at = `${from}:${line}`;
      if (spec === null) {
        if (partOf(from) !== 'free') out.push(`${at}: import() of a computed specifier cannot be checked`);
        continue;
      }
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = resolveRelative(abs, spec);
        if (target === null) {
          out.push(`${at}: '${spec}' names no file`);
          continue;
        }
        const to = rel(target);
        if (to.startsWith('..')) {
          out.push(`${at}: '${spec}' leaves the repository`);
          continue;
        }
        const why = forbiddenEdge(from, to);
        if (why) out.push(`${at} -> ${to}: ${why}`);
      } else {
        const why = forbiddenPackage(from, spec, dependencies);
        if (why) out.push(`${at}: ${why}`);
      }
    }
  }
  return out;
}

describe('the rules', () => {
  test('schemas import nothing of the project', () => {
    expect(forbiddenEdge('schemas/wire.ts', 'schemas/avro.ts')).toBeNull();
    expect(forbiddenEdge('schemas/errors.ts', 'services/common/logger.ts')).not.toBeNull();
    expect(forbiddenEdge('schemas/wire.ts', 'pipelines/types.ts')).not.toBeNull();
  });

  test('pipelines import only schemas and themselves', () => {
    expect(forbiddenEdge('pipelines/stages/dedupe.ts', 'schemas/types.ts')).toBeNull();
    expect(forbiddenEdge('pipelines/stages/dedupe.ts', 'pipelines/columns.ts')).toBeNull();
    expect(forbiddenEdge('pipelines/import/errors.ts', 'services/common/errors.ts')).not.toBeNull();
    expect(forbiddenEdge('pipelines/accuracy-harness.ts', 'bench/synth/index.ts')).not.toBeNull();
    expect(forbiddenEdge('pipelines/stages/dedupe.ts', 'test/support/sample.ts')).not.toBeNull();
  });

  test('a service imports schemas, pipelines, services/common and itself, never another service', () => {
    expect(forbiddenEdge('services/worker/live.ts', 'pipelines/index.ts')).toBeNull();
    expect(forbiddenEdge('services/worker/live.ts', 'services/common/logger.ts')).toBeNull();
    expect(forbiddenEdge('services/api/routes/live.ts', 'services/api/errors.ts')).toBeNull();
    expect(forbiddenEdge('services/api/routes/live.ts', 'services/worker/store-redis.ts')).not.toBeNull();
    expect(forbiddenEdge('services/worker/live.ts', 'bench/synth/index.ts')).not.toBeNull();
    expect(forbiddenEdge('services/worker/live.ts', 'test/support/worker.ts')).not.toBeNull();
  });

  test('a service folder that does not exist yet is covered by the same rule', () => {
    expect(partOf('services/engagement/goals.ts')).toBe('services/engagement');
    expect(forbiddenEdge('services/engagement/goals.ts', 'schemas/types.ts')).toBeNull();
    expect(forbiddenEdge('services/engagement/goals.ts', 'services/engagement/store.ts')).toBeNull();
    expect(forbiddenEdge('services/engagement/goals.ts', 'services/api/app.ts')).not.toBeNull();
    expect(forbiddenEdge('services/api/app.ts', 'services/engagement/goals.ts')).not.toBeNull();
  });

  test('services/common is a leaf library: it imports no service', () => {
    expect(forbiddenEdge('services/common/config.ts', 'schemas/errors.ts')).toBeNull();
    expect(forbiddenEdge('services/common/config.ts', 'services/gateway/config.ts')).not.toBeNull();
  });

  test('a unit test follows its folder, plus test support and the simulation', () => {
    expect(forbiddenEdge('pipelines/stages/dedupe.test.ts', 'test/support/sample.ts')).toBeNull();
    expect(forbiddenEdge('services/worker/codec.test.ts', 'bench/synth/index.ts')).toBeNull();
    expect(forbiddenEdge('services/worker/live.int.test.ts', 'services/api/app.ts')).not.toBeNull();
    expect(forbiddenEdge('schemas/wire.test.ts', 'services/common/logger.ts')).not.toBeNull();
  });

  test('the simulation depends on the contract only', () => {
    expect(forbiddenEdge('bench/synth/index.ts', 'schemas/types.ts')).toBeNull();
    expect(forbiddenEdge('bench/synth/index.ts', 'pipelines/index.ts')).not.toBeNull();
    expect(forbiddenEdge('bench/synth/index.ts', 'bench/loadgen/options.ts')).not.toBeNull();
  });

  test('bench, test, scripts and infra import anything', () => {
    for (const from of ['bench/worker-throughput.ts', 'test/e2e/x.int.test.ts', 'scripts/a.ts', 'infra/b.ts'])
      expect(forbiddenEdge(from, 'services/worker/app.ts')).toBeNull();
  });

  test('product code uses dependencies, not devDependencies', () => {
    const deps = new Set(['kafkajs', '@clickhouse/client']);
    expect(forbiddenPackage('services/worker/app.ts', 'kafkajs', deps)).toBeNull();
    expect(forbiddenPackage('services/worker/app.ts', '@clickhouse/client/dist/x', deps)).toBeNull();
    expect(forbiddenPackage('services/worker/app.ts', 'node:fs', deps)).toBeNull();
    expect(forbiddenPackage('services/worker/app.ts', 'vitest', deps)).not.toBeNull();
    expect(forbiddenPackage('services/worker/app.test.ts', 'vitest', deps)).toBeNull();
    expect(forbiddenPackage('bench/x.ts', 'fast-check', deps)).toBeNull();
  });

  test('every kind of import is read', () => {
    const text = [
      "import a from './a.js';",
      "import type { B } from './b.js';",
      "import './c.js';",
      "export { d } from './d.js';",
      "export * from './e.js';",
      "const f = await import('./f.js');",
      "type G = import('./g.js').G;",
      'const h = await import(name);',
      "const s = `import x from './not-an-import.js'`;",
    ].join('\n');
    expect(importsOf('x.ts', text).map((i) => i.spec)).toEqual([
      './a.js',
      './b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.js',
      null,
    ]);
  });
});

// Parsing every file of the tree takes about a second on an idle machine; a loaded one stretches it.
const SCAN_TIMEOUT_MS = 60_000;

test('the tree has no forbidden import', { timeout: SCAN_TIMEOUT_MS }, () => {
  expect(violations()).toEqual([]);
});

/** `services/<name>/` → the files its section of docs/design.md ("Layout") lists. */
function documentedFiles(design: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let current: Set<string> | null = null;
  for (const line of design.split('\n')) {
    const heading = /^### `(services\/[^/`]+)\/`/.exec(line);
    if (heading) {
      current = new Set();
      out.set(heading[1]!, current);
    } else if (line.startsWith('#')) {
      current = null;
    } else if (current) {
      const item = /^- `([^`]+)` — \S/.exec(line);
      if (item) current.add(item[1]!);
    }
  }
  return out;
}

test('docs/design.md maps every file of every service, and only files that exist', {
  timeout: SCAN_TIMEOUT_MS,
}, () => {
  const documented = documentedFiles(readFileSync(join(ROOT, 'docs', 'design.md'), 'utf8'));
  const problems: string[] = [];
  const servicesDir = join(ROOT, 'services');
  for (const name of readdirSync(servicesDir)) {
    const dir = join(servicesDir, name);
    if (!statSync(dir).isDirectory()) continue;
    const service = `services/${name}`;
    const listed = documented.get(service);
    if (!listed) {
      problems.push(`${service}/ has no section in docs/design.md`);
      continue;
    }
    const files = sourceFiles(dir, [])
      .concat(
        readdirSync(dir)
          .filter((f) => f.endsWith('.html'))
          .map((f) => join(dir, f)),
      )
      .map((f) => relative(dir, f).split(sep).join('/'))
      .filter((f) => !TEST_FILE.test(f));
    for (const f of files) if (!listed.has(f)) problems.push(`${service}/${f} is missing from the file map`);
    for (const f of listed)
      if (!files.includes(f)) problems.push(`${service}/${f} is listed but does not exist`);
  }
  for (const service of documented.keys())
    if (!existsSync(join(ROOT, service))) problems.push(`${service}/ is documented but does not exist`);
  expect(problems).toEqual([]);
});
