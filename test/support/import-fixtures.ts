import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * Bytes of a fixture in test/fixtures/import/ (see SOURCES.md there). The larger XML files
 * are stored gzip-compressed to keep the repository small; they are handed to the parsers
 * decompressed, exactly as the package that ships them has them.
 */
export function fixture(name: string): Uint8Array {
  const b = readFileSync(new URL(`../fixtures/import/${name}`, import.meta.url));
  // a plain Uint8Array: Buffer#slice shares memory, and tests that corrupt a copy must not corrupt the original
  return new Uint8Array(name.endsWith('.gz') ? gunzipSync(b) : b);
}
