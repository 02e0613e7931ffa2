import { ALGORITHM_VERSION } from '../../pipelines/config.js';

/**
 * Activity versions come from durable data, never from a clock or an arrival count, so that a
 * crash-and-redeliver, a duplicate or a replay computes the same number, and more data or a newer
 * algorithm always computes a bigger one:
 *
 *   version = algorithm ordinal × 10^6 + (distinct samples + controls + strength sets + manual entries)
 *
 * where the ordinal of `YYYY.MM-N` is YYYYMMNN (2026.11-1 → 20261101). Late data adds rows, so it
 * bumps the version; re-sending known data does not. Stays below 2^53 for sessions under 10^6 rows.
 */
export function algorithmOrdinal(version: string = ALGORITHM_VERSION): number {
  const m = /^(\d{4})\.(\d{2})-(\d{1,2})$/.exec(version);
  if (!m) return 0;
  return Number(m[1]) * 10_000 + Number(m[2]) * 100 + Number(m[3]);
}

export const ROWS_PER_VERSION = 1_000_000;

export function activityVersion(rows: number, algorithm: string = ALGORITHM_VERSION): number {
  return algorithmOrdinal(algorithm) * ROWS_PER_VERSION + Math.min(rows, ROWS_PER_VERSION - 1);
}

/**
 * Version of a row of the samples table (ReplacingMergeTree(version)), written once on arrival:
 * RAW_BASE − ts, so among re-sent copies of one seq the earliest device time wins, as in pipelines'
 * dedupe, whatever the arrival order. (Migration 0021 writes 2^42 − ts for the rows it copies.)
 */
export const RAW_BASE = 2 ** 42;

export function rawSampleVersion(ts: number): number {
  return Math.max(0, RAW_BASE - ts);
}
