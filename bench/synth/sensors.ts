// What a device reports for a true track: GPS with correlated error and jumps, noisy altitude and speed,
// HR with artefacts, biased cumulative distance. Each noise source has its own random stream, so turning
// one off (e.g. jumpProbability: 0) leaves every other value of the session unchanged.
import type { Sample } from '../../schemas/types.js';
import { metresToDegLat, metresToDegLon, wrapLon } from './geo.js';
import type { ResolvedOptions } from './options.js';
import { STREAM, streamRng } from './rng.js';
import { PROFILES } from './sports.js';
import type { Track } from './track.js';

/** A GPS jump: samples [start, start + length) are displaced by offsetM metres (on top of normal noise). */
export interface GpsJump {
  start: number;
  length: number;
  offsetM: number;
}

export type HrArtefactKind = 'zero' | 'saturated' | 'doubled';
export interface HrArtefact {
  index: number;
  kind: HrArtefactKind;
}

export interface Observation {
  samples: Sample[];
  jumps: GpsJump[];
  hrArtefacts: HrArtefact[];
  /** relative bias of Sample.dist against the true cumulative distance; 0 when dist is null */
  distBias: number;
}

/**
 * Share of the horizontal variance in the correlated (Gauss-Markov) part. Real GPS error is dominated by
 * slowly wandering multipath/ionosphere terms; the white rest is receiver jitter.
 */
const CORRELATED_SHARE = 0.8;
const ALT_CORRELATED_SHARE = 0.7;

export function observe(track: Track, o: ResolvedOptions): Observation {
  const p = PROFILES[o.sport];
  const { n } = track;
  const gps = streamRng(o.seed, STREAM.gps);
  const jumpRng = streamRng(o.seed, STREAM.jumps);
  const altRng = streamRng(o.seed, STREAM.altNoise);
  const hrRng = streamRng(o.seed, STREAM.hrArtefacts);
  const sensors = streamRng(o.seed, STREAM.sensors);

  const sigmaC = o.gpsNoiseM * Math.sqrt(CORRELATED_SHARE);
  const sigmaW = o.gpsNoiseM * Math.sqrt(1 - CORRELATED_SHARE);
  const gpsRho = Math.exp(-1 / gps.uniform(10, 30));
  const gpsInnov = Math.sqrt(1 - gpsRho * gpsRho) * sigmaC;
  const altSigmaC = o.altNoiseM * Math.sqrt(ALT_CORRELATED_SHARE);
  const altSigmaW = o.altNoiseM * Math.sqrt(1 - ALT_CORRELATED_SHARE);
  const altRho = Math.exp(-1 / altRng.uniform(15, 40));
  const altInnov = Math.sqrt(1 - altRho * altRho) * altSigmaC;
  const accRho = Math.exp(-1 / 60);
  const speedSigma = 0.05 + 0.02 * o.gpsNoiseM; // Doppler speed gets worse with the fix
  const distBias = p.reportsDist ? sensors.uniform(0.003, 0.007) : 0;

  // Start the correlated terms in their stationary distribution: no noise-free warm-up.
  let eN = sigmaC * gps.gaussian();
  let eE = sigmaC * gps.gaussian();
  let eAlt = altSigmaC * altRng.gaussian();
  let accX = sensors.gaussian();
  let jumpLeft = 0;
  let jumpN = 0;
  let jumpE = 0;
  const jumps: GpsJump[] = [];
  const hrArtefacts: HrArtefact[] = [];
  const samples: Sample[] = new Array(n);
  const lap = o.lapEveryM;

  for (let i = 0; i < n; i++) {
    eN = gpsRho * eN + gpsInnov * gps.gaussian();
    eE = gpsRho * eE + gpsInnov * gps.gaussian();
    let north = eN + sigmaW * gps.gaussian();
    let east = eE + sigmaW * gps.gaussian();
    if (jumpLeft === 0 && jumpRng.next() < o.jumpProbability) {
      const length = jumpRng.int(1, 3);
      const offsetM = jumpRng.uniform(50, 300);
      const bearing = jumpRng.uniform(0, 2 * Math.PI);
      jumpN = offsetM * Math.cos(bearing);
      jumpE = offsetM * Math.sin(bearing);
      jumpLeft = Math.min(length, n - i);
      jumps.push({ start: i, length: jumpLeft, offsetM });
    }
    if (jumpLeft > 0) {
      north += jumpN;
      east += jumpE;
      jumpLeft--;
    }
    const lat = track.lat[i]!;
    eAlt = altRho * eAlt + altInnov * altRng.gaussian();
    accX = accRho * accX + Math.sqrt(1 - accRho * accRho) * sensors.gaussian();

    // Instantaneous true speed at sample i: mean of the adjacent 1 s intervals.
    const before = i > 0 ? track.segmentSpeed[i - 1]! : track.segmentSpeed[0]!;
    const after = i < n - 1 ? track.segmentSpeed[i]! : before;
    const speed = Math.abs((before + after) / 2 + speedSigma * sensors.gaussian());

    const hrTrue = Math.round(track.hr[i]!);
    let hr = hrTrue;
    if (hrRng.next() < o.hrSpikeProbability) {
      const r = hrRng.next();
      const kind: HrArtefactKind = r < 1 / 3 ? 'zero' : r < 2 / 3 ? 'saturated' : 'doubled';
      hr = kind === 'zero' ? 0 : kind === 'saturated' ? 255 : Math.min(255, 2 * hrTrue);
      hrArtefacts.push({ index: i, kind });
    }

    const cad = track.cadence[i]!;
    const pw = track.power[i]!;
    const powerNoise = 1 + 0.02 * sensors.gaussian();
    const d = track.cumDist[i]!;
    samples[i] = {
      ts: o.startTs + i * 1000,
      seq: i,
      lat: lat + metresToDegLat(north),
      lon: wrapLon(track.lon[i]! + metresToDegLon(east, lat)),
      alt: track.alt[i]! + eAlt + altSigmaW * altRng.gaussian(),
      acc: o.accuracyReported ? Math.round(10 * Math.max(1, o.gpsNoiseM * Math.exp(0.15 * accX))) / 10 : null,
      speed,
      dist: p.reportsDist ? d * (1 + distBias) : null,
      hr,
      cadence: Number.isNaN(cad) ? null : Math.round(cad),
      power: Number.isNaN(pw) ? null : Math.round(pw * powerNoise),
      lap: lap !== null && i > 0 && Math.floor(d / lap) > Math.floor(track.cumDist[i - 1]! / lap),
    };
  }
  return { samples, jumps, hrArtefacts, distBias };
}
