import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per service. Metric names follow `fitstream_<service>_<thing>_<unit>`;
 * process/runtime defaults carry the same prefix so dashboards can tell services apart.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: `fitstream_${service}_` });
  return registry;
}
