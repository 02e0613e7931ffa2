// The worker thread of ImportParser (import-prepare.ts): one file per task, its record values moved back to
// the caller in one buffer.

import { Piscina, transferableSymbol, valueSymbol } from 'piscina';
import { type PrepareInput, packValues, prepareFile } from './import-prepare.js';

export default function prepare(input: PrepareInput) {
  // a Buffer that crossed threads arrives as a plain Uint8Array
  const bytes = Buffer.from(
    input.stored.bytes.buffer,
    input.stored.bytes.byteOffset,
    input.stored.bytes.length,
  );
  const out = prepareFile({ ...input, stored: { ...input.stored, bytes } });
  const buffer = packValues(out);
  return Piscina.move({
    get [transferableSymbol]() {
      return [buffer];
    },
    get [valueSymbol]() {
      return out;
    },
  });
}
