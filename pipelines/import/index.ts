// File import: GPX, TCX and FIT bytes to the pipeline's Sample records plus the device's own
// totals. Pure (bytes in, records out); the API feeds the samples into telemetry.samples.v1 like
// any other source. See docs/imports.md.
export { detectFormat, parseActivityFile } from './detect.js';
export { IMPORT_ERRORS, ImportError, type ImportErrorCode } from './errors.js';
export {
  type ExportActivity,
  type ExportLap,
  exportActivityOf,
} from './export-activity.js';
export { parseFit } from './fit.js';
export { writeFit } from './fit-write.js';
export { parseGpx } from './gpx.js';
export { writeGpx } from './gpx-write.js';
export { sessionControls } from './session-controls.js';
export { parseTcx } from './tcx.js';
export { writeTcx } from './tcx-write.js';
export * from './types.js';
