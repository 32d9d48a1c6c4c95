// The replica's `GET /metrics`: what it served and what waits, as Prometheus reads it, next
// to the proxy's view of the same backend (a gap between the proxy's attempts and the
// replica's arrivals is the network or the proxy). Every series carries the replica's id as
// `server`. Numbers are read from the replica at scrape time; the request path only adds.
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry } from 'prom-client';
import { registerProcessMetrics } from '../http/process-metrics.ts';

export interface ReplicaCounts {
  arrived: number;
  served: number;
  inService: number;
  queued: number;
  hung: number;
}

export function replicaMetricsPlugin(app: FastifyInstance, opts: { id: string; counts: () => ReplicaCounts }): void {
  const registry = new Registry();
  registry.setDefaultLabels({ server: opts.id });
  registerProcessMetrics(registry, 'fulcrum_replica_');
  const registers = [registry];
  const counter = (name: string, help: string, read: (c: ReplicaCounts) => number) => new Counter({
    name, help, registers, collect() { this.reset(); this.inc(read(opts.counts())); },
  });
  const gauge = (name: string, help: string, read: (c: ReplicaCounts) => number) => new Gauge({
    name, help, registers, collect() { this.set(read(opts.counts())); },
  });
  counter('fulcrum_replica_requests_total', 'Requests that arrived (heartbeats and /metrics not counted).', (c) => c.arrived);
  counter('fulcrum_replica_served_total', 'Requests whose service time ended (faulted ones never start it).', (c) => c.served);
  gauge('fulcrum_replica_in_service', 'Requests in service now.', (c) => c.inService);
  gauge('fulcrum_replica_queued', 'Requests waiting for a service slot (the concurrency limit).', (c) => c.queued);
  gauge('fulcrum_replica_hung_connections', 'Connections held open by the hang fault.', (c) => c.hung);
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.addHook('onClose', async () => { registry.clear(); });
}
