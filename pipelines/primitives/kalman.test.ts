import { describe, expect, it } from 'vitest';
import { Cv2, rtsSmooth } from './kalman.js';

/** A 1-D constant-velocity walk at 2 m/s, 1 Hz, measured with deterministic noise of ±3 m. */
function noisyWalk(n: number) {
  const ts = Float64Array.from({ length: n }, (_, i) => i * 1000);
  let s = 12345;
  const z = Float64Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return 2 * i + ((s / 2147483648) * 2 - 1) * 3;
  });
  return { ts, z };
}

/** Forward pass with recorded smoother gains; returns the filtered positions and velocities. */
function filter(ts: Float64Array, z: Float64Array, n: number, q: number, r: number) {
  const x = new Float64Array(n);
  const v = new Float64Array(n);
  const c = [0, 1, 2, 3].map(() => new Float64Array(n)) as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const kf = new Cv2();
  kf.init(z[0]!, 0, r, 100);
  x[0] = kf.x;
  for (let i = 1; i < n; i++) {
    kf.predictRts((ts[i]! - ts[i - 1]!) * 0.001, q, i, ...c);
    kf.update(z[i]!, 0, r);
    x[i] = kf.x;
    v[i] = kf.vx;
  }
  return { x, v, c };
}

describe('kalman', () => {
  it('Cv2: predict and update follow the Kalman equations', () => {
    const kf = new Cv2();
    kf.init(0, 0, 4, 1);
    kf.vx = 2;
    kf.predict(1, 3);
    // P = F P Fᵀ + q [dt³/3 dt²/2; dt²/2 dt]
    expect([kf.x, kf.p00, kf.p01, kf.p11]).toEqual([2, 4 + 1 + 1, 1 + 1.5, 1 + 3]);
    kf.update(5, 0, 6);
    // K = P[:,0] / (p00 + r) = [6, 2.5] / 12
    expect(kf.x).toBeCloseTo(2 + 0.5 * 3, 12);
    expect(kf.vx).toBeCloseTo(2 + (2.5 / 12) * 3, 12);
    expect(kf.p00).toBeCloseTo(3, 12);
    expect(kf.mahalanobis2(kf.x + 3, kf.y + 4, 22)).toBeCloseTo(1, 12);
  });

  it('predictRts predicts as predict does and records C with C · P_predicted = P_filtered · Fᵀ', () => {
    const kf = new Cv2();
    kf.init(1, 2, 4, 2);
    kf.p01 = 1;
    kf.vx = 3;
    const same = new Cv2();
    same.copyFrom(kf);
    const c = [0, 1, 2, 3].map(() => new Float64Array(2)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    const dt = 0.5;
    kf.predictRts(dt, 0.7, 1, ...c);
    same.predict(dt, 0.7);
    expect([kf.x, kf.vx, kf.p00, kf.p01, kf.p11]).toEqual([same.x, same.vx, same.p00, same.p01, same.p11]);
    // P_filtered · Fᵀ with P = [4 1; 1 2], F = [1 dt; 0 1]
    const a = [4 + dt * 1, 1, 1 + dt * 2, 2];
    const [c00, c01, c10, c11] = c.map((col) => col[1]!) as [number, number, number, number];
    expect(c00 * kf.p00 + c01 * kf.p01).toBeCloseTo(a[0]!, 12);
    expect(c00 * kf.p01 + c01 * kf.p11).toBeCloseTo(a[1]!, 12);
    expect(c10 * kf.p00 + c11 * kf.p01).toBeCloseTo(a[2]!, 12);
    expect(c10 * kf.p01 + c11 * kf.p11).toBeCloseTo(a[3]!, 12);
  });

  it('rtsSmooth: closer to the truth than the filter, the last row left as filtered', () => {
    const n = 300;
    const { ts, z } = noisyWalk(n);
    const { x, v, c } = filter(ts, z, n, 0.01, 9);
    const filtered = x.slice();
    rtsSmooth(ts, null, 0, n, x, v, ...c);
    const mse = (a: Float64Array) => a.reduce((s, xi, i) => s + (xi - 2 * i) ** 2, 0) / n;
    expect(mse(x)).toBeLessThan(mse(filtered) * 0.6);
    expect(x[n - 1]).toBe(filtered[n - 1]);
    expect(Math.abs(v[150]! - 2)).toBeLessThan(0.1);
  });

  it('rtsSmooth: nothing flows back across a segment boundary', () => {
    const n = 200;
    const m = 120;
    const { ts, z } = noisyWalk(n);
    const whole = filter(ts, z, n, 0.01, 9);
    const head = filter(ts, z, m, 0.01, 9);
    const segment = Int32Array.from({ length: n }, (_, i) => (i < m ? 0 : 1));
    rtsSmooth(ts, segment, 0, n, whole.x, whole.v, ...whole.c);
    rtsSmooth(ts, null, 0, m, head.x, head.v, ...head.c);
    expect(whole.x.subarray(0, m)).toEqual(head.x);
    expect(whole.v.subarray(0, m)).toEqual(head.v);
  });
});
