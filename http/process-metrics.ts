// prom-client's default process and Node.js metrics, for the proxy's and the replica's own
// registries, minus the three that Prometheus's own checker rejects: prom-client exports
// nodejs_active_{handles,requests,resources}_total as gauges, and `promtool check metrics`
// refuses a non-counter whose name ends in _total. Nothing is lost: the same numbers are in
// nodejs_active_{handles,requests,resources} by type, and sum() adds them up.
import { type Registry, collectDefaultMetrics } from 'prom-client';

const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function registerProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) registry.removeSingleMetric(prefix + name);
}
