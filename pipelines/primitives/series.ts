/** Lookups in per-row series over device time (`ts` non-decreasing), as laps and splits use them. */

/** First index with a[i] >= v over [0, n) (a non-decreasing). */
export function lowerBound(a: Float64Array, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (a[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Linear interpolation of a series at fractional row position pos. */
export function interp(series: Float64Array, pos: number): number {
  const i = Math.floor(pos);
  const f = pos - i;
  const a = series[i]!;
  return f === 0 ? a : a + (series[i + 1]! - a) * f;
}

/** Value of a per-row series at device time t (linear between rows, clamped at the ends). */
export function atTime(ts: Float64Array, series: Float64Array, n: number, t: number): number {
  const i = lowerBound(ts, n, t);
  if (i >= n) return series[n - 1]!;
  if (i === 0 || ts[i] === t) return series[i]!;
  const t0 = ts[i - 1]!;
  return series[i - 1]! + ((series[i]! - series[i - 1]!) * (t - t0)) / (ts[i]! - t0);
}
