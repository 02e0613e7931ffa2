// Seeded randomness for the synthetic generator. Two flavours:
// - sequential streams (mulberry32) for generateSession, one independent stream per concern so that
//   changing, say, gpsNoiseM never changes the ground-truth track;
// - stateless hashes (fmix32 chains) for sampleAt, which must produce sample i without replaying 0..i-1.

/** Named sub-streams; the number is mixed into the seed so each concern draws independent values. */
export const STREAM = {
  stops: 1,
  terrain: 2,
  route: 3,
  pace: 4,
  physiology: 5,
  gps: 6,
  jumps: 7,
  altNoise: 8,
  hrArtefacts: 9,
  sensors: 10,
  params: 11,
  jumpParams: 12,
  whiteNoise: 13,
} as const;

const TWO_POW_32 = 4294967296;

function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Well-mixed 32-bit hash of up to three integers (each reduced mod 2^32). */
export function hash32(a: number, b: number, c = 0): number {
  let h = fmix32((a ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ (b >>> 0)) + 0x7f4a7c15);
  return fmix32((h ^ (c >>> 0)) + 0x165667b1);
}

/** Folds a safe-integer seed (possibly negative or above 2^32) into 32 bits without losing the high part. */
function foldSeed(seed: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  return hash32(lo, hi, 0x5eed);
}

/** Seed of the sub-stream `stream` of a session seed. */
export function deriveSeed(seed: number, stream: number): number {
  return hash32(foldSeed(seed), stream, 0);
}

/**
 * Stateless random values for sampleAt: pure functions of a stream base (from deriveSeed), an index and a
 * salt that tells apart several values drawn at the same index. Plain functions, no closures: sampleAt
 * is called per sample of thousands of sessions.
 */
export function uniformAt(base: number, index: number, salt = 0): number {
  return hash32(base, index, salt) / TWO_POW_32;
}

/** Standard normal (Box-Muller on two hashed uniforms); see uniformAt. */
export function gaussianAt(base: number, index: number, salt = 0): number {
  const u1 = (hash32(base ^ 0x6a09e667, index, 2 * salt) + 1) / (TWO_POW_32 + 1);
  const u2 = hash32(base ^ 0x6a09e667, index, 2 * salt + 1) / TWO_POW_32;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  uniform(lo: number, hi: number): number;
  /** integer in [lo, hi], both inclusive */
  int(lo: number, hi: number): number;
  /** standard normal */
  gaussian(): number;
}

/** mulberry32: 32-bit state, period 2^32, a few ns per draw; plenty for synthetic data. */
class Mulberry32 implements Rng {
  private state: number;
  /** second Box-Muller value, NaN when used */
  private spare = Number.NaN;

  constructor(seed32: number) {
    this.state = seed32 >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo + 1) * this.next());
  }

  gaussian(): number {
    if (!Number.isNaN(this.spare)) {
      const g = this.spare;
      this.spare = Number.NaN;
      return g;
    }
    // Marsaglia's polar method: no trigonometry, ~1.27 uniform pairs per normal pair.
    let x: number;
    let y: number;
    let r2: number;
    do {
      x = 2 * this.next() - 1;
      y = 2 * this.next() - 1;
      r2 = x * x + y * y;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.spare = y * f;
    return x * f;
  }
}

export function createRng(seed32: number): Rng {
  return new Mulberry32(seed32);
}

/** Stream `stream` of session `seed`. */
export function streamRng(seed: number, stream: number): Rng {
  return createRng(deriveSeed(seed, stream));
}
