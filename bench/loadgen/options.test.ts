import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { expect, test } from 'vitest';
import { LOADGEN_OPTIONS } from './options.js';

// scripts/demo.sh (the README's main job) starts the load generator; an option it passes that the
// load generator no longer knows makes parseArgs throw and the main job fail (it did: `--keep`).
test('scripts/demo.sh passes the load generator only options it knows', () => {
  const demo = readFileSync(new URL('../../scripts/demo.sh', import.meta.url), 'utf8');
  const call = /dist\/bench\/loadgen\/main\.js\s*\\?\n([\s\S]*?)2>/.exec(demo);
  expect(call).not.toBeNull();
  const args = call![1]!
    .replace(/\\\n/g, ' ')
    // "${DEMO_DEVICES:-50}" -> 50
    .replace(/"\$\{[A-Z_]+:-([^}]*)\}"/g, '$1')
    .replace(/"\$[A-Z_]+\/([^"]*)"/g, '/tmp/$1')
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '&');
  expect(args).toContain('--devices');
  const { values } = parseArgs({ options: LOADGEN_OPTIONS, args, strict: true });
  expect(Number(values.devices)).toBeGreaterThan(0);
  expect(Number(values.duration)).toBeGreaterThan(0);
  expect(values.out).toBe('/tmp/loadgen-summary.json');
});
