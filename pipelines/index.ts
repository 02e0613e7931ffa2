// Public API of the pure pipeline stages. See docs/algorithms.md for every method and threshold.
export { allocColumns, BYTES_PER_SAMPLE, columnsFromSamples } from './columns.js';
export { activityIdFor, computeActivity } from './compute-activity.js';
export { ALGORITHM_VERSION, CONFIGS, SESSION_DEFAULTS, type SportConfig, sportConfig } from './config.js';
export type { LiveState } from './live-estimator.js';
export { EARTH_RADIUS_M, haversine } from './primitives/geo.js';
export { type AccumulatorOptions, type AddResult, SessionAccumulator } from './session-accumulator.js';
export { decodePolyline, encodePolyline } from './stages/polyline.js';
export * from './types.js';
