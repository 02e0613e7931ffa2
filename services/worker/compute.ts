// The one place the worker takes its activity computation from (pipelines/ owns it).
export { ALGORITHM_VERSION } from '../../pipelines/config.js';
export { computeActivity } from '../../pipelines/index.js';
