// Per-sport parameters of the synthetic athlete and terrain. Ranges are drawn once per session.
import type { SynthSport } from './options.js';

type Range = readonly [number, number];

export interface SportProfile {
  /** cruising speed on the flat, m/s (cycling derives speed from power0W instead) */
  baseSpeed: Range;
  /** hard limits on the true speed while moving, m/s */
  speedClamp: Range;
  /** relative sigma and correlation time (s) of slow pace variation */
  paceSigma: number;
  paceTauS: number;
  /** m/s per second when starting and when braking for a stop */
  accel: number;
  decel: number;
  /** target elevation gain per hour of moving, m */
  gainPerHourM: Range;
  /** typical moving speed used to turn gain per hour into gain per metre of terrain */
  terrainSpeed: number;
  hillWavelengthM: Range;
  startAltM: Range;
  /** path curvature: sigma (1/m) and correlation length (m) of the bend process */
  curvatureSigma: number;
  curvatureCorrM: number;
  /** mean distance between sharp corners (60-110 degrees), m */
  cornerSpacingM: number;
  /** steady-state heart rate at nominal effort, and bpm per unit of relative effort */
  hrNominal: Range;
  hrGain: number;
  /** heart rate approached during stops */
  hrStopped: Range;
  /** device reports cumulative distance (watch / bike computer) or not (phone apps often do not) */
  reportsDist: boolean;
  /** cycling: crank rpm; running: steps per minute; null: no cadence sensor */
  cadence: 'rpm' | 'spm' | null;
}

export const PROFILES: Record<SynthSport, SportProfile> = {
  running: {
    baseSpeed: [2.8, 3.6],
    speedClamp: [2.3, 4.6],
    paceSigma: 0.05,
    paceTauS: 90,
    accel: 0.8,
    decel: 1.0,
    gainPerHourM: [60, 280],
    terrainSpeed: 3.1,
    hillWavelengthM: [500, 4000],
    startAltM: [380, 700],
    curvatureSigma: 1 / 150,
    curvatureCorrM: 60,
    cornerSpacingM: 450,
    hrNominal: [145, 162],
    hrGain: 45,
    hrStopped: [95, 108],
    reportsDist: true,
    cadence: 'spm',
  },
  cycling: {
    baseSpeed: [7.5, 9.5],
    speedClamp: [4, 14],
    paceSigma: 0.08,
    paceTauS: 120,
    accel: 0.6,
    decel: 1.5,
    gainPerHourM: [320, 900],
    terrainSpeed: 7.5,
    hillWavelengthM: [1200, 10_000],
    startAltM: [380, 700],
    curvatureSigma: 1 / 300,
    curvatureCorrM: 150,
    cornerSpacingM: 900,
    hrNominal: [132, 152],
    hrGain: 35,
    hrStopped: [92, 105],
    reportsDist: true,
    cadence: 'rpm',
  },
  walking: {
    baseSpeed: [1.25, 1.5],
    speedClamp: [0.9, 1.8],
    paceSigma: 0.05,
    paceTauS: 60,
    accel: 0.5,
    decel: 0.8,
    gainPerHourM: [30, 150],
    terrainSpeed: 1.35,
    hillWavelengthM: [300, 2500],
    startAltM: [380, 700],
    curvatureSigma: 1 / 80,
    curvatureCorrM: 30,
    cornerSpacingM: 250,
    hrNominal: [118, 128],
    hrGain: 30,
    hrStopped: [88, 98],
    reportsDist: false,
    cadence: null,
  },
  hiking: {
    baseSpeed: [1.05, 1.35],
    speedClamp: [0.45, 1.6],
    paceSigma: 0.06,
    paceTauS: 120,
    accel: 0.4,
    decel: 0.6,
    // Tobler pace on 15-25 % climbs gives the DIN 33466 rule of thumb of ~300 m/h of ascent.
    gainPerHourM: [200, 600],
    terrainSpeed: 1.1,
    hillWavelengthM: [1500, 8000],
    startAltM: [900, 1600],
    curvatureSigma: 1 / 60,
    curvatureCorrM: 40,
    cornerSpacingM: 300,
    hrNominal: [125, 142],
    hrGain: 35,
    hrStopped: [95, 105],
    reportsDist: false,
    cadence: null,
  },
};

/** Rider + bike for the cycling power model: mass kg, 0.5*rho*CdA, rolling resistance, drivetrain loss. */
export const BIKE = { massKg: 82, aeroK: 0.5 * 1.2 * 0.32, crr: 0.005, drivetrain: 0.975, g: 9.81 } as const;
export const CYCLING_POWER_W: Range = [150, 230];

/** Tobler's hiking function relative to the flat: 1 on the flat, ~0.5 at +20 %, ~1.19 at -5 %. */
export function toblerRatio(grade: number): number {
  return Math.exp(-3.5 * (Math.abs(grade + 0.05) - 0.05));
}
