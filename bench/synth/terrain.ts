// Rolling-hills altitude as a smooth function of distance along the path: a sum of four sines with
// log-uniform wavelengths. A function of distance (not time) keeps the altitude constant during stops and
// lets sampleAt evaluate it in O(1).
import type { SynthSport } from './options.js';
import { STREAM, streamRng } from './rng.js';
import { PROFILES } from './sports.js';

const COMPONENTS = 4;
/** Summed sines partially cancel and slow climbs shift time uphill; realised/target gain measured over 40 seeds. */
const INTERFERENCE = 0.55;

export interface Terrain {
  /** metres above sea level at path distance s (m) */
  altAt(s: number): number;
  /** dAlt/ds at path distance s */
  gradeAt(s: number): number;
}

export function buildTerrain(seed: number, sport: SynthSport): Terrain {
  const p = PROFILES[sport];
  const rng = streamRng(seed, STREAM.terrain);
  const gainPerM = rng.uniform(p.gainPerHourM[0], p.gainPerHourM[1]) / (3600 * p.terrainSpeed);
  const base = rng.uniform(p.startAltM[0], p.startAltM[1]);
  const amp = new Float64Array(COMPONENTS);
  const k = new Float64Array(COMPONENTS);
  const phase = new Float64Array(COMPONENTS);
  const weights = new Float64Array(COMPONENTS);
  const [wMin, wMax] = p.hillWavelengthM;
  let wSum = 0;
  for (let c = 0; c < COMPONENTS; c++) {
    weights[c] = rng.uniform(0.4, 1.6);
    wSum += weights[c]!;
  }
  for (let c = 0; c < COMPONENTS; c++) {
    const wavelength = wMin * (wMax / wMin) ** rng.next();
    k[c] = (2 * Math.PI) / wavelength;
    phase[c] = rng.uniform(0, 2 * Math.PI);
    // One sine of amplitude A gains 2A per wavelength, i.e. 2A/L per metre.
    amp[c] = ((weights[c]! / wSum) * gainPerM * wavelength) / (2 * INTERFERENCE);
  }
  let offset = 0;
  for (let c = 0; c < COMPONENTS; c++) offset += amp[c]! * Math.sin(phase[c]!);
  return {
    altAt(s) {
      let a = base - offset;
      for (let c = 0; c < COMPONENTS; c++) a += amp[c]! * Math.sin(k[c]! * s + phase[c]!);
      return a;
    },
    gradeAt(s) {
      let g = 0;
      for (let c = 0; c < COMPONENTS; c++) g += amp[c]! * k[c]! * Math.cos(k[c]! * s + phase[c]!);
      return g;
    },
  };
}
