// startProxy: validates the config, builds the core (Balancer + Router) and the proxy
// around it, and listens. Tests, the CLI and the live experiment runner all start the
// proxy this way.
import { randomBytes, randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Balancer, BalancerEvent, FulcrumRules, RoutingConfig, Router } from '../../core/index.ts';
import { buildAdminApp } from './admin/admin-app.ts';
import { AttemptLog } from './attempt-log.ts';
import { BackendRegistry } from './backends.ts';
import { ClientIdentity } from './client-identity.ts';
import { nowMs } from './clock.ts';
import { STREAM, rngStream } from '../../core/rng.ts';
import { parseRoutingConfig } from './config.ts';
import { CoreDriver } from './core-driver.ts';
import { Discovery, type DiscoveryOptions, discoveryProblems } from './discovery.ts';
import { EventLog } from './event-log.ts';
import { createForwarder } from './forward.ts';
import { HealthChecker } from './health-checker.ts';
import type { Journal } from './journal.ts';
import { type BackendSpec, Membership } from './membership.ts';
import { ProxyMetrics } from './metrics.ts';
import { OwnListeners } from './own-listeners.ts';
import { type ProxyLimits, buildProxyApp } from './proxy-app.ts';
import { guardProtocol } from './protocol-guard.ts';
import { createUpgradeHandler } from './upgrade.ts';
import { ViaTag } from './via.ts';

export interface ListenAddress {
  host?: string;
  port?: number;
  /** In a Node cluster worker (`--workers`): bind on its own instead of sharing the primary's socket. */
  exclusive?: boolean;
}

export interface ProxyOptions {
  backends: BackendSpec[];
  /** Backends found by resolving DNS names every intervalMs (see discovery.ts). */
  discovery?: DiscoveryOptions;
  /** Routing input in core's RoutingSchema (validated here); undefined → DEFAULT_ROUTING_INPUT. */
  routing?: unknown;
  /** Overrides `balancer.policy`. */
  policy?: string;
  /** Data listener; default 127.0.0.1, port 0 (any free port). */
  listen?: ListenAddress;
  /** Admin listener; default 127.0.0.1, port 0. `false` disables it. */
  admin?: ListenAddress | false;
  /** Admin bearer token; a random one is generated when absent. */
  adminToken?: string;
  /** Seed for the balancer, backoff jitter and health-check jitter streams; random when absent. */
  seed?: string | number;
  /** Peers whose X-Forwarded-For is believed (addresses or CIDR blocks). */
  trustedProxies?: string[];
  /** Non-loopback backend hosts the admin API may add. */
  allowBackendHosts?: string[];
  /** Fastify's pino access log (one line per request); off by default. */
  accessLog?: boolean;
  /** A file for the attempt log (attempt-log.ts): each request's attempts with their times, and membership changes. */
  attemptLog?: string;
  /** Router decision traces on every flow. */
  trace?: boolean;
  /** Journal every core call (for replay); implies `trace`. */
  journal?: boolean;
  limits?: Partial<ProxyLimits>;
  upstream?: { connections?: number; keepAliveTimeoutMs?: number };
  drainTimeoutMs?: number;
  maxBackends?: number;
  /** Hears every successful admin mutation. */
  onAudit?: (entry: { action: string; id?: string; detail?: unknown; client: string }) => void;
}

export interface RunningProxy {
  readonly url: string;
  readonly adminUrl: string | undefined;
  readonly adminToken: string;
  readonly seed: string | number;
  readonly routing: RoutingConfig;
  readonly balancer: Balancer;
  readonly router: Router<FulcrumRules>;
  readonly driver: CoreDriver;
  readonly journal: Journal | undefined;
  readonly events: EventLog;
  readonly metrics: ProxyMetrics;
  readonly app: FastifyInstance;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then frees everything. */
  close(graceMs?: number): Promise<void>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) { super(`invalid proxy configuration:\n  ${problems.join('\n  ')}`); }
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxHeaderCount: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  // Far above what the load generator opens (64 per client) and below the usual fd limits
  // (20,000 here), so sockets opened and left idle cannot exhaust the process.
  maxConnections: 10_000,
};

export async function startProxy(o: ProxyOptions): Promise<RunningProxy> {
  const parsed = parseRoutingConfig(o.routing, o.policy);
  if (!parsed.ok) throw new ConfigError(parsed.problems);
  const discoveryErrors = o.discovery ? discoveryProblems(o.discovery) : [];
  if (discoveryErrors.length > 0) throw new ConfigError(discoveryErrors);
  const routing = parsed.config;
  const seed = o.seed ?? randomInt(2 ** 31);
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const adminToken = o.adminToken ?? randomBytes(24).toString('base64url');
  const events = new EventLog();
  const attemptLog = o.attemptLog === undefined ? undefined : await AttemptLog.open(o.attemptLog).catch((err: Error) => {
    throw new ConfigError([`--attempt-log: cannot write ${o.attemptLog} (${err.message})`]);
  });

  // The Balancer reports through one hook; these are its listeners, wired once built.
  const listeners: Array<(e: BalancerEvent) => void> = [(e) => events.push(e)];
  const driver = new CoreDriver({
    routing, seed, clock: nowMs, trace: o.trace, journal: o.journal,
    onEvent: (e) => { for (const l of listeners) l(e); },
    onStateChange: attemptLog && (() => attemptLog.members(nowMs(), driver.balancer.status(nowMs()))),
  });
  const registry = new BackendRegistry({
    connections: o.upstream?.connections ?? 128,
    connectTimeoutMs: routing.timeouts.connectMs,
    keepAliveTimeoutMs: o.upstream?.keepAliveTimeoutMs ?? 4_000,
    bodyIdleTimeoutMs: routing.timeouts.requestMs,
  });
  const ejections = new Map<string, number>();
  const metrics = new ProxyMetrics({
    balancer: driver.balancer, router: driver.router, now: nowMs, backends: () => registry.all(), ejections: () => ejections,
    discovery: () => discovery?.stats() ?? [],
  });
  const health = new HealthChecker(routing.health?.active, driver, rngStream(seed, STREAM.healthJitter), routing.timeouts.connectMs);
  // The listeners' fixed ports are known now; ports picked by the OS are added once bound.
  const own = new OwnListeners();
  own.add(o.listen?.host ?? '127.0.0.1', o.listen?.port ?? 0);
  if (o.admin !== false) own.add(o.admin?.host ?? '127.0.0.1', o.admin?.port ?? 0);
  const membership = new Membership(driver, registry, health, {
    allowHosts: o.allowBackendHosts ?? [], maxBackends: o.maxBackends ?? 256, drainTimeoutMs: o.drainTimeoutMs ?? 30_000, own,
  });
  listeners.push((e) => membership.onEvent(e), (e) => {
    if (e.kind === 'ejected') ejections.set(e.id, (ejections.get(e.id) ?? 0) + 1);
    else if (e.kind === 'removed') ejections.delete(e.id);
  });
  const discovery = o.discovery && new Discovery(o.discovery, {
    membership, balancer: driver.balancer, now: nowMs, log: (e) => { events.push(e); o.discovery?.onEvent?.(e); },
  });
  if (discovery) listeners.push((e) => discovery.onBalancerEvent(e));

  // All initial backends are checked before any is added: a bad one starts nothing.
  const reserved = new Map<string, string>();
  const specs = o.backends.map((spec, i) => {
    try {
      const ok = membership.check(spec, reserved);
      reserved.set(ok.id, ok.origin);
      return { ...spec, id: ok.id };
    } catch (err) {
      throw new ConfigError([`backend ${i + 1} (${spec.id ?? spec.url}): ${(err as Error).message}`]);
    }
  });
  const firstProbes = specs.map((spec) => membership.add(spec, true).firstProbe);

  const lifecycle = { closing: false };
  const via = new ViaTag();
  const identity = new ClientIdentity(o.trustedProxies);
  const forward = createForwarder({
    lifecycle,
    maxHeaderCount: limits.maxHeaderCount,
    driver, registry, metrics, identity,
    limits: { maxBodyBytes: limits.maxBodyBytes, maxReplayBodyBytes: Math.min(routing.retry?.maxReplayBodyBytes ?? 0, limits.maxBodyBytes) },
    accessLog: o.accessLog ?? false,
    attemptLog,
    via,
  });
  const app = buildProxyApp(limits, forward, o.accessLog ?? false);
  const upgrades = createUpgradeHandler({
    driver, registry, identity, metrics, via, maxHeaderCount: limits.maxHeaderCount, idleTimeoutMs: limits.keepAliveTimeoutMs,
  });
  app.server.on('upgrade', upgrades);
  guardProtocol(app.server);
  app.server.on('drop', () => metrics.connectionDropped());
  let admin: FastifyInstance | undefined;
  try {
    // So the first request finds backends already checked (and discovered).
    await Promise.all([...firstProbes, discovery?.start()]);
    await app.listen({ host: o.listen?.host ?? '127.0.0.1', port: o.listen?.port ?? 0, exclusive: o.listen?.exclusive });
    addBound(own, app);
    if (o.admin !== false) {
      admin = buildAdminApp(adminToken, {
        balancer: driver.balancer, registry, membership, events, metrics, now: nowMs, routing,
        onAudit: o.onAudit,
        config: () => ({
          seed, routing, limits, backends: driver.balancer.ids(),
          discovery: o.discovery ? { targets: o.discovery.targets, intervalMs: o.discovery.intervalMs, dnsServer: o.discovery.dnsServer ?? null } : null,
        }),
      }, {
        closing: () => lifecycle.closing, dataListening: () => app.server.listening, balancer: driver.balancer, now: nowMs,
      });
      await admin.listen({ host: o.admin?.host ?? '127.0.0.1', port: o.admin?.port ?? 0, exclusive: o.admin?.exclusive });
      addBound(own, admin);
    }
    // A port the OS picked may be one a backend URL already named (with nothing listening then).
    const loops = [...registry.all()].map((r) => own.selfReference(r.origin)).filter((m) => m !== undefined);
    if (loops.length > 0) throw new ConfigError(loops);
    discovery?.schedule();
  } catch (err) {
    discovery?.stop();
    health.stopAll();
    await Promise.allSettled([app.close(), admin?.close(), registry.closeAll(), attemptLog?.close()]);
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    url: urlOf(app), adminUrl: admin ? urlOf(admin) : undefined, adminToken, seed, routing,
    balancer: driver.balancer, router: driver.router, driver, journal: driver.journal, events, metrics, app,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        lifecycle.closing = true; // /readyz answers 503 from here on
        discovery?.stop();
        health.stopAll();
        driver.close();
        // In-flight requests finish (their answers say Connection: close); keep-alive
        // connections are closed as they fall idle; past the grace period the rest are cut.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        const force = setTimeout(() => { app.server.closeAllConnections(); upgrades.closeAll(); }, graceMs);
        await app.close();
        clearInterval(sweep);
        clearTimeout(force);
        await admin?.close();
        await registry.closeAll();
        await attemptLog?.close(); // after the last request has been logged
      })();
      return closing;
    },
  };
}

function addBound(own: OwnListeners, app: FastifyInstance): void {
  const a = app.server.address() as AddressInfo;
  own.add(a.address, a.port);
}

function urlOf(app: FastifyInstance): string {
  const a = app.server.address() as AddressInfo;
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
