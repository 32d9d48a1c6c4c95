// A latency histogram as plain numbers, exported to Prometheus at scrape time. prom-client's
// own Histogram hashes its label set on every observe, which on a proxy's request path
// costs more than the routing decision itself.
import type { Metric, Registry } from 'prom-client';

export const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class LatencyHistogram {
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts = new Float64Array(LATENCY_BUCKETS_S.length + 1);
  sumSeconds = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_S.length && seconds > LATENCY_BUCKETS_S[i]) i++;
    this.counts[i]++;
    this.sumSeconds += seconds;
    this.count++;
  }
}

interface Sample { metricName: string; labels: Record<string, string | number>; value: number }

/**
 * Registers a histogram whose series are read at scrape time. `read` yields one
 * [labels, histogram] pair per series; series that stop appearing disappear from the output.
 */
export function registerHistogram(
  registry: Registry, name: string, help: string, read: () => Iterable<[Record<string, string>, LatencyHistogram]>,
): void {
  const get = async () => {
    const values: Sample[] = [];
    for (const [labels, h] of read()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) {
        cumulative += h.counts[i];
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: LATENCY_BUCKETS_S[i] }, value: cumulative });
      }
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${name}_sum`, labels, value: h.sumSeconds });
      values.push({ metricName: `${name}_count`, labels, value: h.count });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  };
  registry.registerMetric({ name, help, type: 'histogram', aggregator: 'sum', get, reset() {} } as unknown as Metric);
}
