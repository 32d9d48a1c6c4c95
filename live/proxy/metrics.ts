// Prometheus metrics on the proxy's own Registry (never the global one, so two proxies in
// one process stay apart). The request path only bumps plain numbers (here and in each
// backend's BackendStats); everything is turned into metrics at scrape time, and Router
// counters and balancer state are read from the core then, so it stays the one source of
// truth. Labels are bounded: backend id (at most maxBackends) and status class. Counters are
// exported at 0 from the start, so rate() and increase() count the first request, retry or
// ejection (a series that appears at 1 has no earlier sample to rise from).
import { Counter, Gauge, Registry } from 'prom-client';
import type { Balancer, BackendStatus, FulcrumRules, Router } from '../../core/index.ts';
import type { BackendStats, StatusClass } from './backend-stats.ts';
import type { ResolutionResult, TargetStats } from './discovery.ts';
import { registerProcessMetrics } from '../../http/process-metrics.ts';
import { LatencyHistogram, registerHistogram } from './latency-histogram.ts';

const CLASSES: StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'error'];

export interface MetricSources {
  balancer: Balancer;
  router: Router<FulcrumRules>;
  now: () => number;
  /** The backends the proxy holds (draining ones included). */
  backends: () => Iterable<{ id: string; stats: BackendStats }>;
  /** Ejections so far per backend id. */
  ejections: () => ReadonlyMap<string, number>;
  /** DNS discovery's counts per target (the targets are the operator's flags: bounded). */
  discovery: () => readonly TargetStats[];
}

const RESOLUTION_RESULTS: ResolutionResult[] = ['ok', 'empty', 'error'];

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requestsByClass: Record<StatusClass, number> = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 };
  private readonly requestSeconds = new LatencyHistogram();
  private inFlight = 0;
  private connectionsDropped = 0;
  private loopsDetected = 0;

  constructor(src: MetricSources) {
    const registers = [this.registry];
    // prom-client calls collect() with `this` bound to the metric; these read the proxy's numbers.
    const requestsByClass = this.requestsByClass;
    const requestSeconds = this.requestSeconds;
    const inFlight = () => this.inFlight;
    const connectionsDropped = () => this.connectionsDropped;
    registerProcessMetrics(this.registry, 'fulcrum_');

    new Counter({
      name: 'fulcrum_requests_total', help: 'Client requests answered, by final status class (proxy errors included; error = no complete answer).',
      labelNames: ['status_class'], registers,
      collect() { this.reset(); for (const c of CLASSES) this.inc({ status_class: c }, requestsByClass[c]); },
    });
    registerHistogram(this.registry, 'fulcrum_request_duration_seconds',
      'Client request duration in the proxy, all attempts and backoffs included.', () => [[{}, requestSeconds]]);
    new Gauge({
      name: 'fulcrum_in_flight_requests', help: 'Client requests in progress.', registers,
      collect() { this.set(inFlight()); },
    });

    new Counter({
      name: 'fulcrum_upstream_attempts_total', help: 'Attempts sent to a backend, by outcome (status class, or error for connect failure/reset/timeout).',
      labelNames: ['backend', 'status_class'], registers,
      collect() {
        this.reset();
        for (const b of src.backends()) for (const c of CLASSES) this.inc({ backend: b.id, status_class: c }, b.stats.byClass[c]);
      },
    });
    registerHistogram(this.registry, 'fulcrum_upstream_attempt_duration_seconds',
      'Attempt duration on a backend, until its response ended or it failed.',
      function* () { for (const b of src.backends()) yield [{ backend: b.id }, b.stats.histogram]; });
    new Counter({
      name: 'fulcrum_ejections_total', help: 'Outlier ejections per backend.', labelNames: ['backend'], registers,
      collect() {
        this.reset();
        const ejections = src.ejections();
        for (const b of src.backends()) this.inc({ backend: b.id }, ejections.get(b.id) ?? 0);
      },
    });

    const fromRouter = (name: string, help: string, read: () => number) => new Counter({
      name, help, registers,
      collect() { this.reset(); this.inc(read()); },
    });
    fromRouter('fulcrum_router_requests_total', 'Logical requests started in the Router.', () => src.router.counts.requests);
    fromRouter('fulcrum_router_attempts_total', 'Attempts picked by the Router (first tries and retries).', () => src.router.counts.attempts);
    fromRouter('fulcrum_router_retries_total', 'Retries (attempts after the first).', () => src.router.counts.retries);
    fromRouter('fulcrum_router_retry_budget_overflows_total', 'Retries refused by the retry budget.', () => src.router.rules.budget.overflows);

    const perBackend = (name: string, help: string, value: (s: BackendStatus) => number) => new Gauge({
      name, help, labelNames: ['backend'], registers,
      collect() { this.reset(); for (const s of src.balancer.status(src.now())) this.set({ backend: s.id }, value(s)); },
    });
    perBackend('fulcrum_backend_healthy', 'Active health state: 1 healthy, 0 unhealthy, -1 not yet probed.',
      (s) => (s.health === 'healthy' ? 1 : s.health === 'unhealthy' ? 0 : -1));
    perBackend('fulcrum_backend_ejected', '1 while outlier detection has the backend ejected.', (s) => (s.ejectedUntilMs > 0 ? 1 : 0));
    perBackend('fulcrum_backend_routable', '1 when the backend may get new requests.', (s) => (s.routable ? 1 : 0));
    perBackend('fulcrum_backend_in_flight', 'Attempts outstanding on the backend.', (s) => s.inFlight);
    perBackend('fulcrum_backend_weight', 'Effective weight (after slow start).', (s) => s.effectiveWeight);
    new Counter({
      name: 'fulcrum_discovery_resolutions_total', help: 'DNS discovery lookups per target, by result (empty and error keep the last known addresses).',
      labelNames: ['target', 'result'], registers,
      collect() {
        this.reset();
        for (const t of src.discovery()) for (const r of RESOLUTION_RESULTS) this.inc({ target: t.target, result: r }, t.resolutions[r]);
      },
    });
    new Gauge({
      name: 'fulcrum_discovered_backends', help: 'Addresses in each DNS target\'s last good answer.', labelNames: ['target'], registers,
      collect() { this.reset(); for (const t of src.discovery()) this.set({ target: t.target }, t.addresses); },
    });
    new Gauge({
      name: 'fulcrum_panic', help: '1 while too few backends are healthy and the balancer ignores health.', registers,
      collect() { this.set(src.balancer.inPanic ? 1 : 0); },
    });
    new Counter({
      name: 'fulcrum_client_connections_dropped_total', help: 'Client connections closed on accept because maxConnections were open.', registers,
      collect() { this.reset(); this.inc(connectionsDropped()); },
    });
    const loopsDetected = () => this.loopsDetected;
    new Counter({
      name: 'fulcrum_loops_detected_total', help: 'Requests that came back through this proxy (its own Via entry) and were answered 508.', registers,
      collect() { this.reset(); this.inc(loopsDetected()); },
    });
  }

  /** A request came back carrying this proxy's own Via entry (answered 508). */
  loopDetected(): void { this.loopsDetected++; }

  /** Node's `drop` event: a connection refused at the maxConnections cap. */
  connectionDropped(): void { this.connectionsDropped++; }

  requestStarted(): void { this.inFlight++; }

  requestEnded(cls: StatusClass, seconds: number): void {
    this.inFlight--;
    this.requestsByClass[cls]++;
    this.requestSeconds.observe(seconds);
  }
}
