// `npm run proxy -- --listen 127.0.0.1:8080 --backend http://127.0.0.1:9001 --backend s2=http://127.0.0.1:9002
//   --policy p2c [--config lb.json] [--admin 127.0.0.1:9090] [--admin-token T] [--seed N] ...`
// or, in Kubernetes, `--discover replicas.NAMESPACE.svc.cluster.local:9001` instead of --backend.
// Exit code 2 for invalid flags or config (every problem listed, with its JSON path).
// Prints one JSON ready line on stdout; SIGTERM/SIGINT drain in-flight requests and exit.
import { parseArgs } from 'node:util';
import { loadRoutingConfig } from './config.ts';
import { type DiscoveryTarget, parseHostPort } from './discovery-plan.ts';
import type { DiscoveryEvent } from './discovery.ts';
import type { BackendSpec } from './membership.ts';
import { ConfigError, type ListenAddress, startProxy } from './start.ts';
import { warmUp } from './warm-up.ts';
import { runPrimary, workerIndex, workerSettings } from './workers.ts';
import { listenErrorLine } from '../../http/busy-port.ts';
import { flagProblem } from '../../core/did-you-mean.ts';

/** The ports asked for, so a failed bind can name its flag. */
let listenPort = 8080;
let adminPort: number | null = 9090;

const USAGE = `usage: npm run proxy -- (--backend [ID=]URL[@WEIGHT] | --discover HOST:PORT) ... [options]
  --listen HOST:PORT          data listener (default 127.0.0.1:8080)
  --backend [ID=]URL[@W]      a backend, repeatable; ids default to s1..sN in order
  --discover HOST:PORT        resolve HOST periodically; each address is a backend http://ADDR:PORT
                              (id ADDR_PORT), repeatable; combines with --backend
  --discover-interval-ms N    pause between resolution rounds (default 5000)
  --dns-server IP:PORT        ask this DNS server (A and AAAA) instead of the system resolver
  --policy NAME               balancing policy (overrides the config's balancer.policy)
  --config FILE               routing config (core RoutingSchema: balancer, health, retry, timeouts)
  --admin HOST:PORT | off     admin listener (default 127.0.0.1:9090)
  --admin-token T             admin bearer token (or env FULCRUM_ADMIN_TOKEN; random and printed to stderr otherwise)
  --seed N                    seed for the balancer, jitter and health streams (random otherwise)
  --trusted-proxy ADDR|CIDR   peer whose X-Forwarded-For is believed, repeatable
  --allow-backend-host HOST   non-loopback backend host the admin API may add, repeatable
  --max-body-bytes N          413 above (default 10485760)
  --max-headers N             431 above (default 100)
  --max-connections N         open client connections at most; more are closed on accept (default 10000)
  --access-log                one pino JSON line per request on stdout
  --attempt-log FILE          one JSON line per finished request in FILE: its x-request-id, status and
                              each attempt's server, start and end (epoch ms); flushed on SIGTERM/SIGINT
  --warm-up N                 first send N requests through a throwaway instance (own backend,
                              nothing shared), so the real one starts with its request path compiled
  --stop-on-stdin-end         stop as on SIGTERM when stdin ends: a supervisor that dies, even by
                              SIGKILL, takes the proxy with it (the live runner starts it so)
  --workers N                 N worker processes sharing --listen (Node cluster, connections handed
                              out round robin), each its own balancer: seed S/balancer-i, admin on
                              port P+i (or its own OS-picked port), attempt log FILE.worker-i joined
                              into FILE on stop (default 1: no workers)`;

function fail(problems: string[]): never {
  process.stderr.write(`proxy: invalid configuration\n  ${problems.join('\n  ')}\n(npm run proxy -- --help lists the flags)\n`);
  process.exit(2);
}

function parseListen(flag: string, text: string): ListenAddress {
  const m = /^(.*):(\d{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65_535) fail([`--${flag}: got "${text}"; allowed: HOST:PORT, e.g. 127.0.0.1:8080`]);
  return { host: m[1].replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
}

/** `[ID=]URL[@WEIGHT]` */
export function parseBackendFlag(text: string): BackendSpec {
  const eq = text.indexOf('=');
  const id = eq > 0 && !text.slice(0, eq).includes('/') ? text.slice(0, eq) : undefined;
  let rest = id === undefined ? text : text.slice(eq + 1);
  let weight: number | undefined;
  const at = /@([0-9.]+)$/.exec(rest);
  if (at) { weight = Number(at[1]); rest = rest.slice(0, at.index); }
  return { id, url: rest, weight };
}

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) fail([`--${flag}: got "${text}"; allowed: a positive integer`]);
  return n;
}

function parseDiscovery(targets: string[], intervalText: string | undefined, dnsServer: string | undefined) {
  if (targets.length === 0) {
    const orphan = intervalText !== undefined ? 'discover-interval-ms' : dnsServer !== undefined ? 'dns-server' : undefined;
    if (orphan) fail([`--${orphan}: only allowed with --discover HOST:PORT`]);
    return undefined;
  }
  const problems: string[] = [];
  const parsed: DiscoveryTarget[] = [];
  for (const text of targets) {
    const t = parseHostPort(text);
    if (t.ok) parsed.push({ host: t.host, port: t.port }); else problems.push(`--discover: ${t.message}`);
  }
  if (dnsServer !== undefined) {
    const s = parseHostPort(dnsServer, true);
    if (!s.ok) problems.push(`--dns-server: ${s.message}`);
  }
  if (problems.length > 0) fail(problems);
  return {
    targets: parsed, intervalMs: positiveInt('discover-interval-ms', intervalText) ?? 5_000, dnsServer,
    onEvent: (e: DiscoveryEvent) => process.stderr.write(JSON.stringify({ ...e, at: new Date(e.atMs).toISOString() }) + '\n'),
  };
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        listen: { type: 'string', default: '127.0.0.1:8080' },
        backend: { type: 'string', multiple: true, default: [] },
        discover: { type: 'string', multiple: true, default: [] },
        'discover-interval-ms': { type: 'string' },
        'dns-server': { type: 'string' },
        policy: { type: 'string' },
        config: { type: 'string' },
        admin: { type: 'string', default: '127.0.0.1:9090' },
        'admin-token': { type: 'string' },
        seed: { type: 'string' },
        'trusted-proxy': { type: 'string', multiple: true, default: [] },
        'allow-backend-host': { type: 'string', multiple: true, default: [] },
        'max-body-bytes': { type: 'string' },
        'max-headers': { type: 'string' },
        'max-connections': { type: 'string' },
        'access-log': { type: 'boolean', default: false },
        'attempt-log': { type: 'string' },
        'stop-on-stdin-end': { type: 'boolean', default: false },
        'warm-up': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail([flagProblem((err as Error).message, [...USAGE.matchAll(/--([a-z-]+)/g)].map((m) => m[1]))]);
  }
  if (values.help) { process.stdout.write(USAGE + '\n'); return; }
  if (values.backend.length === 0 && values.discover.length === 0) fail(['--backend: at least one backend (or --discover) is required']);
  const discovery = parseDiscovery(values.discover, values['discover-interval-ms'], values['dns-server']);

  let routing: unknown;
  if (values.config !== undefined) {
    const loaded = loadRoutingConfig(values.config, values.policy);
    if (!loaded.ok) fail(loaded.problems);
    routing = loaded.config;
  }
  const envToken = process.env.FULCRUM_ADMIN_TOKEN;
  const adminToken = values['admin-token'] ?? (envToken || undefined);
  const admin = values.admin === 'off' ? false : parseListen('admin', values.admin);
  const listenAt = parseListen('listen', values.listen);
  listenPort = listenAt.port ?? 0;
  adminPort = admin === false ? null : admin.port ?? 0;

  const warmUpRequests = positiveInt('warm-up', values['warm-up']);
  const workers = positiveInt('workers', values.workers) ?? 1;
  const worker = workerIndex();
  if (workers > 1 && worker === undefined) {
    process.exit(await runPrimary(workers, { attemptLog: values['attempt-log'], stopOnStdinEnd: values['stop-on-stdin-end'] }));
  }
  const own: ReturnType<typeof workerSettings> = worker === undefined
    ? { seed: values.seed, attemptLog: values['attempt-log'], admin }
    : workerSettings(worker, { seed: values.seed, attemptLog: values['attempt-log'], admin });
  let proxy;
  try {
    if (warmUpRequests !== undefined) await warmUp(warmUpRequests, routing);
    proxy = await startProxy({
      backends: values.backend.map(parseBackendFlag),
      discovery,
      routing,
      policy: values.config === undefined ? values.policy : undefined, // already applied to the file
      listen: listenAt,
      admin: own.admin,
      adminToken,
      seed: own.seed,
      trustedProxies: values['trusted-proxy'],
      allowBackendHosts: values['allow-backend-host'],
      accessLog: values['access-log'],
      attemptLog: own.attemptLog,
      limits: {
        ...(values['max-body-bytes'] ? { maxBodyBytes: positiveInt('max-body-bytes', values['max-body-bytes']) } : {}),
        ...(values['max-headers'] ? { maxHeaderCount: positiveInt('max-headers', values['max-headers']) } : {}),
        ...(values['max-connections'] ? { maxConnections: positiveInt('max-connections', values['max-connections']) } : {}),
      },
      onAudit: (entry) => process.stderr.write(JSON.stringify({ audit: entry.action, ...entry, at: new Date().toISOString() }) + '\n'),
    });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    throw err;
  }
  if (admin !== false && !adminToken) process.stderr.write(`proxy: generated admin token: ${proxy.adminToken}\n`);
  const ready = {
    event: 'ready' as const, url: proxy.url, port: Number(new URL(proxy.url).port), adminUrl: proxy.adminUrl ?? null,
    policy: proxy.routing.balancer.policy, seed: proxy.seed, backends: proxy.balancer.ids(), pid: process.pid,
  };
  if (worker === undefined) process.stdout.write(JSON.stringify(ready) + '\n');
  else process.send!(ready); // the primary prints one line for all

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    proxy.close().then(() => {
      process.stderr.write(`proxy: ${signal}, in-flight requests finished, closed\n`);
      process.exit(0);
    }, (err) => { process.stderr.write(`proxy: close failed: ${err}\n`); process.exit(1); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A worker stops with its primary, however the primary ends; stdin is the primary's.
  if (worker !== undefined) process.on('disconnect', () => shutdown('primary gone'));
  else if (values['stop-on-stdin-end']) {
    process.stdin.on('end', () => shutdown('stdin ended')).on('error', () => shutdown('stdin failed')).resume();
  }
}

main().catch((err) => {
  const busy = listenErrorLine(err, { '--listen': listenPort, ...(adminPort === null ? {} : { '--admin': adminPort }) });
  if (busy) { process.stderr.write(`proxy: ${busy}\n`); process.exit(2); }
  process.stderr.write(`proxy: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
