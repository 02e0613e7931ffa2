// Public API of the pure pipeline stages. See docs/algorithms.md for every method and threshold.
export {
  type AccumulatorOptions,
  type AddResult,
  type LiveState,
  SessionAccumulator,
} from './accumulator.js';
export { allocColumns, BYTES_PER_SAMPLE, columnsFromSamples } from './columns.js';
export { ALGORITHM_VERSION, CONFIGS, SESSION_DEFAULTS, type SportConfig, sportConfig } from './config.js';
export { EARTH_RADIUS_M, haversine } from './stages/distance.js';
export { decodePolyline, encodePolyline } from './stages/polyline.js';
export { activityIdFor, computeActivity } from './stages/rollup.js';
export * from './types.js';
