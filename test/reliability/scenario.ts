// One reliability scenario: load and a nemesis run together against a cluster, then the
// checker reads the histories and the proxy's metrics, and a one-line summary goes to
// .build/reliability/summary.jsonl (rendered into the docs/reliability.md table by render-table.ts).
import { appendFileSync } from 'node:fs';
import { type CheckResult, type Interval, checkHistory, violationCounts } from './checker.ts';
import { type ClientRecord, type LoadOptions, nowMs, startLoad } from './client.ts';
import { type Cluster, ROUTING } from './cluster.ts';
import { SUMMARY_FILE } from './paths.ts';

/** Generous on a shared 2-core machine: a hang is minutes, not this. */
const SLACK_MS = 1_500;

/** What the nemesis tells the checker about the world while it acts. */
export class Timeline {
  private outageFromMs: number | undefined;
  private proxyDownFromMs: number | undefined;
  readonly outages: Interval[] = [];
  readonly proxyDown: Interval[] = [];
  readonly faults: string[] = [];

  /** No backend is healthy (or known to be) from now on. */
  outageBegins(): void { this.outageFromMs = nowMs(); }
  outageEnds(): void { this.outages.push([this.outageFromMs!, nowMs()]); this.outageFromMs = undefined; }
  proxyGoesDown(): void { this.proxyDownFromMs = nowMs(); }
  proxyIsBack(): void { this.proxyDown.push([this.proxyDownFromMs!, nowMs()]); this.proxyDownFromMs = undefined; }
  /** Names a fault in the summary (kept once per kind). */
  fault(name: string): void { if (!this.faults.includes(name)) this.faults.push(name); }

  healthyWindows(endMs: number): Interval[] {
    const out: Interval[] = [];
    let from = 0;
    for (const [a, b] of [...this.outages].sort((x, y) => x[0] - y[0])) { out.push([from, a]); from = b; }
    out.push([from, this.outageFromMs ?? endMs]);
    return out;
  }
}

export interface ScenarioRun {
  records: ClientRecord[];
  result: CheckResult;
  /** Replica-side attempts (all processes). */
  attempts: number;
  outcomes: Record<string, number>;
}

export interface ScenarioOptions {
  name: string;
  cluster: Cluster;
  load: Partial<LoadOptions> & { total: number };
  /** Acts on the cluster while the load runs; `progress()` is the number of finished requests. */
  nemesis: (t: Timeline, progress: () => number) => Promise<void>;
  /** Requests after the nemesis finished (default 400). */
  tailRequests?: number;
  /** Whether /metrics reconcile (false when the proxy restarted: its counters started over). */
  metrics?: boolean;
  routing?: typeof ROUTING;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioRun> {
  const routing = o.routing ?? ROUTING;
  const t = new Timeline();
  const startedMs = nowMs();
  // The load runs until the nemesis is done and `tailRequests` more have finished (so
  // recovery is observed), capped by `total` and the run deadline.
  let tailFrom: number | undefined;
  const tail = o.tailRequests ?? 400;
  const load = startLoad({
    url: o.cluster.url, concurrency: 12, thinkMs: 5, runDeadlineMs: 60_000, requestTimeoutMs: routing.timeouts.requestMs + 10_000,
    ridPrefix: o.name, stop: () => tailFrom !== undefined && load.done() >= tailFrom + tail, ...o.load,
  });
  let loadEndedFirst = false;
  await Promise.all([
    load.finished.then(() => { loadEndedFirst = tailFrom === undefined; }),
    o.nemesis(t, load.done).then(() => { tailFrom = load.done(); }),
  ]);
  // A load that ran out before the faults were over observed neither them all nor recovery.
  if (loadEndedFirst) throw new Error(`${o.name}: the load (total ${o.load.total}) ended before the nemesis; raise load.total`);
  const endMs = nowMs();
  const metricsText = o.metrics === false ? undefined : await settledMetrics(o.cluster);
  const result = checkHistory({
    client: load.records,
    arrivals: o.cluster.arrivals(),
    responses: o.cluster.responses(),
    metricsText,
    retry: {
      maxAttempts: routing.retry.maxAttempts,
      budgetRatio: routing.retry.budget.ratio,
      minConcurrent: routing.retry.budget.minConcurrent,
      idempotentMethods: ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'],
    },
    deadlineMs: routing.timeouts.requestMs,
    slackMs: SLACK_MS,
    oracle: { healthy: t.healthyWindows(endMs), proxyDown: t.proxyDown },
  });
  const outcomes: Record<string, number> = {};
  for (const r of load.records) {
    const key = r.outcome.kind === 'response' ? String(r.outcome.status) : r.outcome.kind;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  const attempts = o.cluster.arrivals().length;
  appendFileSync(SUMMARY_FILE, JSON.stringify({
    scenario: o.name, faults: t.faults, requests: load.records.length, attempts, outcomes,
    invariants: violationCounts(result), violations: result.violations.length, budgetExcused: result.budgetExcused,
    seconds: Math.round((endMs - startedMs) / 100) / 10, at: new Date().toISOString(),
  }) + '\n');
  return { records: load.records, result, attempts, outcomes };
}

/** Scrapes /metrics once the proxy has closed every request (a response's close can trail the client's last byte). */
async function settledMetrics(cluster: Cluster): Promise<string> {
  const until = Date.now() + 5_000;
  for (;;) {
    const text = await cluster.metricsText();
    if (/^fulcrum_in_flight_requests 0$/m.test(text) || Date.now() > until) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves once `progress()` reaches n (bounded: the load itself is bounded). */
export async function after(progress: () => number, n: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (progress() < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A failure message listing the first violations, so a red test says what broke. */
export function describeViolations(run: ScenarioRun): string {
  return run.result.violations.slice(0, 10).map((v) => `I${v.invariant} ${v.rid ?? ''}: ${v.detail}`).join('\n');
}
