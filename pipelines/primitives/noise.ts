/**
 * Measurement noise estimated from a series itself, for inputs that do not report it (imported
 * files carry no GPS accuracy; a barometric altitude is far quieter than a GPS one).
 *
 * The normalised second divided difference of three consecutive readings,
 *   e = ((z2 − z1)/dt2 − (z1 − z0)/dt1) / √(1/dt1² + (1/dt1 + 1/dt2)² + 1/dt2²),
 * is N(0, σ²) for white noise of σ on a constant-velocity path, whatever the sampling intervals;
 * motion that is not constant-velocity only adds to it, so the estimate errs high, towards the
 * cautious side. σ = median |e| / 0.6745 (robust to the few turns and spikes). The median comes
 * from a histogram (O(n), nothing sorted or allocated per reading).
 */
export class NoiseEstimator {
  private readonly bins: Uint32Array;
  private count = 0;

  /** |e| is binned by `step` up to `max` (larger values land in the last bin) */
  constructor(
    private readonly step: number,
    max: number,
  ) {
    this.bins = new Uint32Array(Math.ceil(max / step) + 1);
  }

  /** one triple of readings z0, z1, z2 taken dt1 then dt2 seconds apart (both > 0) */
  add(z0: number, z1: number, z2: number, dt1: number, dt2: number): void {
    const a = 1 / dt1;
    const b = 1 / dt2;
    const e = Math.abs((z2 - z1) * b - (z1 - z0) * a) / Math.sqrt(a * a + (a + b) * (a + b) + b * b);
    const k = Math.min(Math.floor(e / this.step), this.bins.length - 1);
    this.bins[k]!++;
    this.count++;
  }

  get samples(): number {
    return this.count;
  }

  /** σ of the noise, NaN with fewer than `minSamples` triples */
  sigma(minSamples: number): number {
    if (this.count < minSamples || this.count === 0) return Number.NaN;
    const half = this.count / 2;
    let acc = 0;
    for (let k = 0; k < this.bins.length; k++) {
      acc += this.bins[k]!;
      if (acc >= half) return ((k + 0.5) * this.step) / 0.6745;
    }
    return Number.NaN;
  }
}
