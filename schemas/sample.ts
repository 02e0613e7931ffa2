import type { Sample } from './types.js';

/**
 * The fields of a Sample in the order of the Avro record `fitstream.v1.Sample` (a unit test holds the two
 * together). For code that walks every field: validators, column copies, tests that compare field by field.
 */
export const SAMPLE_FIELDS = [
  'ts',
  'seq',
  'lat',
  'lon',
  'alt',
  'acc',
  'speed',
  'dist',
  'hr',
  'cadence',
  'power',
  'lap',
] as const satisfies readonly (keyof Sample)[];

/** A sample at device time `ts` with every optional field missing: the one place the empty Sample is written. */
export function emptySample(ts: number, seq: number | null = null): Sample {
  return {
    ts,
    seq,
    lat: null,
    lon: null,
    alt: null,
    acc: null,
    speed: null,
    dist: null,
    hr: null,
    cadence: null,
    power: null,
    lap: false,
  };
}
