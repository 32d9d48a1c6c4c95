// Backend discovery by DNS (Envoy's STRICT_DNS, NGINX's `resolve`): every intervalMs each
// target's name is resolved, and every address becomes a backend http://ADDR:PORT. New
// addresses join through Membership.add (health checks, slow start); vanished ones drain
// through Membership.remove. A failed or empty answer keeps the target's last known set.
import type { Balancer, BalancerEvent } from '../../core/index.ts';
import {
  type DiscoveryTarget, type WantedBackend, parseHostPort, planDiscovery, targetName, wantedBackends,
} from './discovery-plan.ts';
import { type Resolve, serverResolve, systemResolve } from './dns-resolve.ts';
import { type Membership, MembershipError } from './membership.ts';

export interface DiscoveryOptions {
  targets: DiscoveryTarget[];
  intervalMs: number;
  /** A lookup that has not answered by then counts as an error (default 5000). */
  timeoutMs?: number;
  /** Query this DNS server (`IP:PORT`) for A and AAAA instead of the system resolver. */
  dnsServer?: string;
  /** How names are resolved, overriding both of the above (tests inject their own). */
  resolve?: Resolve;
  /** Hears every discovery event as it is logged (the CLI writes them to stderr). */
  onEvent?: (e: DiscoveryEvent) => void;
}

/** Every problem with the options, each naming its field. */
export function discoveryProblems(o: DiscoveryOptions): string[] {
  const problems: string[] = [];
  if (!Array.isArray(o.targets) || o.targets.length === 0) problems.push('discovery.targets: at least one HOST:PORT target');
  (o.targets ?? []).forEach((t, i) => {
    const check = parseHostPort(`${t.host?.includes(':') ? `[${t.host}]` : t.host}:${t.port}`);
    if (!check.ok) problems.push(`discovery.targets[${i}]: ${check.message}`);
  });
  if (!Number.isInteger(o.intervalMs) || o.intervalMs <= 0) problems.push(`discovery.intervalMs: got ${o.intervalMs}; allowed: a positive integer`);
  if (o.timeoutMs !== undefined && (!Number.isInteger(o.timeoutMs) || o.timeoutMs <= 0)) {
    problems.push(`discovery.timeoutMs: got ${o.timeoutMs}; allowed: a positive integer`);
  }
  if (o.dnsServer !== undefined) {
    const check = parseHostPort(o.dnsServer, true);
    if (!check.ok) problems.push(`discovery.dnsServer: ${check.message}`);
  }
  return problems;
}

/** What discovery writes to the proxy's event log (per backend where there is one). */
export type DiscoveryEvent =
  | { kind: 'discovered'; id: string; url: string; target: string; atMs: number }
  | { kind: 'undiscovered'; id: string; target: string; atMs: number }
  | { kind: 'discovery-failed'; target: string; id?: string; error: string; keptAddresses: number; atMs: number }
  | { kind: 'discovery-recovered'; target: string; addresses: number; atMs: number };

export type ResolutionResult = 'ok' | 'empty' | 'error';

export interface TargetStats {
  target: string;
  resolutions: Record<ResolutionResult, number>;
  /** Addresses in the target's last good answer. */
  addresses: number;
}

interface TargetState {
  readonly target: DiscoveryTarget;
  readonly name: string;
  /** The last good answer, sorted; undefined until one arrives. */
  addresses: string[] | undefined;
  readonly resolutions: Record<ResolutionResult, number>;
  /** The error being reported, so an outage is logged once, not every round. */
  failing: string | undefined;
}

export interface DiscoveryDeps {
  membership: Membership;
  balancer: Balancer;
  now: () => number;
  log: (e: DiscoveryEvent) => void;
}

export const DEFAULT_DISCOVERY_TIMEOUT_MS = 5_000;

export class Discovery {
  private readonly targets: TargetState[];
  private readonly resolve: Resolve;
  private readonly timeoutMs: number;
  /** Backends this discovery added that the balancer still holds (active or draining), by id → target. */
  private readonly ours = new Map<string, string>();
  private wanted = new Map<string, WantedBackend>();
  /** Ids Membership refused (id taken by another backend, backend limit), logged once each. */
  private readonly refused = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private roundAbort: AbortController | undefined;
  private stopped = false;

  constructor(private readonly o: DiscoveryOptions, private readonly deps: DiscoveryDeps) {
    this.targets = o.targets.map((target) => ({
      target, name: targetName(target), addresses: undefined, failing: undefined,
      resolutions: { ok: 0, empty: 0, error: 0 },
    }));
    this.timeoutMs = o.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS;
    this.resolve = o.resolve ?? (o.dnsServer !== undefined ? serverResolve(o.dnsServer, this.timeoutMs) : systemResolve);
  }

  /**
   * The first round, before the proxy reports ready: resolves once, adds what it found as
   * start-up backends (no slow start) and waits for their first health probe, so the first
   * request finds them. A failure here is logged like any other; the proxy still starts.
   */
  async start(): Promise<void> {
    await Promise.all(await this.round(true));
  }

  /** Starts the periodic rounds: the next begins intervalMs after the last one ended. */
  schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.round(false).catch((err: Error) => this.deps.log({
        kind: 'discovery-failed', target: '*', error: `round failed: ${err.message}`, keptAddresses: this.ours.size, atMs: this.deps.now(),
      })).finally(() => this.schedule());
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.roundAbort?.abort();
  }

  /** A discovered backend that finished draining while DNS lists it again is added back. */
  onBalancerEvent(e: BalancerEvent): void {
    if (e.kind !== 'removed' || !this.ours.delete(e.id)) return;
    if (this.wanted.has(e.id)) queueMicrotask(() => { this.reconcile(false); });
  }

  stats(): TargetStats[] {
    return this.targets.map((t) => ({ target: t.name, resolutions: { ...t.resolutions }, addresses: t.addresses?.length ?? 0 }));
  }

  private async round(initial: boolean): Promise<Array<Promise<void>>> {
    const abort = new AbortController();
    this.roundAbort = abort;
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    try {
      await Promise.all(this.targets.map((t) => this.resolveTarget(t, abort.signal)));
    } finally {
      clearTimeout(timer);
    }
    return this.reconcile(initial);
  }

  private async resolveTarget(t: TargetState, signal: AbortSignal): Promise<void> {
    let addresses: string[];
    try {
      addresses = await Promise.race([this.resolve(t.target.host, signal), rejectOnAbort(signal, this.timeoutMs)]);
    } catch (err) {
      // One wording for a silent server, whoever noticed first (c-ares or our timer), so
      // an outage is logged once.
      // The code alone, not c-ares' "queryA"/"queryAaaa" prefix: whichever query failed
      // first, the same outage reads the same.
      const code = (err as NodeJS.ErrnoException).code;
      const silent = signal.aborted || code === 'ETIMEOUT';
      this.failed(t, 'error', silent ? `no answer within ${this.timeoutMs} ms` : code ? `${code} ${t.target.host}` : (err as Error).message);
      return;
    }
    if (this.stopped) return;
    const unique = [...new Set(addresses)].sort();
    // Conservative, unlike Envoy (which empties the cluster): an empty answer is far more
    // often a DNS or zone mishap than a service truly scaled to zero, and a kept address
    // that is really gone only fails its health checks, while an emptied pool fails every
    // request. (CoreDNS answers NXDOMAIN, an error, for a headless Service with no endpoints.)
    if (unique.length === 0) { this.failed(t, 'empty', 'empty answer'); return; }
    t.resolutions.ok++;
    t.addresses = unique;
    if (t.failing !== undefined) {
      t.failing = undefined;
      this.deps.log({ kind: 'discovery-recovered', target: t.name, addresses: unique.length, atMs: this.deps.now() });
    }
  }

  private failed(t: TargetState, result: 'empty' | 'error', error: string): void {
    if (this.stopped) return;
    t.resolutions[result]++;
    if (t.failing === error) return;
    t.failing = error;
    this.deps.log({ kind: 'discovery-failed', target: t.name, error, keptAddresses: t.addresses?.length ?? 0, atMs: this.deps.now() });
  }

  /** Brings the balancer in line with the last good answers; returns new backends' first probes. */
  private reconcile(initial: boolean): Array<Promise<void>> {
    if (this.stopped) return [];
    const { membership, balancer, now, log } = this.deps;
    this.wanted = wantedBackends(this.targets.map((t) => ({ target: t.target, addresses: t.addresses })));
    const lifecycle = new Map(balancer.status(now()).map((s) => [s.id, s.lifecycle]));
    const active = new Set<string>();
    const draining = new Set<string>();
    for (const id of this.ours.keys()) {
      const state = lifecycle.get(id);
      if (state === undefined) this.ours.delete(id);
      else (state === 'active' ? active : draining).add(id);
    }
    const plan = planDiscovery(this.wanted, active, draining);

    for (const id of plan.remove) {
      log({ kind: 'undiscovered', id, target: this.ours.get(id)!, atMs: now() }); // the reason, before the drain's own events
      membership.remove(id);
    }
    const probes: Array<Promise<void>> = [];
    for (const id of plan.add) {
      const w = this.wanted.get(id)!;
      try {
        const { firstProbe } = membership.add({ id, url: w.url }, initial, true);
        this.ours.set(id, w.target);
        this.refused.delete(id);
        log({ kind: 'discovered', id, url: w.url, target: w.target, atMs: now() });
        probes.push(firstProbe);
      } catch (err) {
        if (!(err instanceof MembershipError)) throw err;
        if (this.refused.get(id) === err.message) continue;
        this.refused.set(id, err.message);
        const kept = this.targets.find((t) => t.name === w.target)?.addresses?.length ?? 0;
        log({ kind: 'discovery-failed', target: w.target, id, error: `not added: ${err.message}`, keptAddresses: kept, atMs: now() });
      }
    }
    for (const id of this.refused.keys()) if (!this.wanted.has(id)) this.refused.delete(id);
    return probes;
  }
}

function rejectOnAbort(signal: AbortSignal, timeoutMs: number): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = () => reject(new Error(`no answer within ${timeoutMs} ms`));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
