// The experiment on NGINX 1.22 (open source): the optional `proxies.nginx` block (settings in
// NGINX's own vocabulary: the ngx_http_upstream_module and ngx_http_proxy_module directives)
// and the translation of the generic sections into NginxSettings. A generic setting NGINX
// cannot express is a problem (one line naming its JSON path and the way out) only when it
// differs from its schema default; at the default it stands for NGINX's own behaviour. A
// field of the block wins over the translated one and silences the problems it replaces.
import { z } from 'zod';
import type { RunConfig } from '../schema.ts';
import { type RetryConfig, RetrySchema } from '../../core/config.ts';
import { DEFAULT_VNODES } from '../../core/policies/ring.ts';
import type { NginxBalance, NginxSettings } from './nginx-settings.ts';

/** The balancing directives, as written in the upstream block ("round-robin": none). */
export const NGINX_BALANCE = [
  'round-robin', 'least_conn', 'ip_hash', 'hash $remote_addr', 'hash $remote_addr consistent',
  'random', 'random two', 'random two least_conn',
] as const;
/** `proxy_next_upstream` conditions (ngx_http_proxy_module). */
export const NEXT_UPSTREAM = [
  'error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429',
  'non_idempotent', 'off',
] as const;

/** NGINX's own defaults (ngx_http_upstream_module, ngx_http_proxy_module documentation). */
export const NGINX_DEFAULTS = {
  nextUpstream: ['error', 'timeout'], maxFails: 1, failTimeoutMs: 10_000, workerProcesses: 1, zone: true,
} as const;

const TIMEOUT_MAX_MS = 1e9;
const ms = z.number().int().positive().max(TIMEOUT_MAX_MS);

/** The `proxies.nginx` block: NGINX's own settings, each one optional. */
export const NginxBlockSchema = z.strictObject({
  /** The balancing directive ("round-robin": none, NGINX's default). */
  balance: z.enum(NGINX_BALANCE).optional(),
  /** `proxy_next_upstream`; ["off"] or [] turns retries off. Replaces the generic `retry` section. */
  nextUpstream: z.array(z.enum(NEXT_UPSTREAM)).max(NEXT_UPSTREAM.length).optional(),
  /** `proxy_next_upstream_tries` (0: as many as servers). */
  nextUpstreamTries: z.number().int().min(0).max(1_000).optional(),
  /** `proxy_next_upstream_timeout` in ms (0: none). */
  nextUpstreamTimeoutMs: z.number().int().min(0).max(TIMEOUT_MAX_MS).optional(),
  /** `max_fails` of every server (0: passive health off). Replaces `health.outlier`. */
  maxFails: z.number().int().min(0).max(1_000).optional(),
  /** `fail_timeout` of every server, whole seconds in ms. */
  failTimeoutMs: z.number().int().min(0).max(TIMEOUT_MAX_MS).refine((v) => v % 1000 === 0, { message: 'must be whole seconds (NGINX parses fail_timeout in seconds), e.g. 10000' }).optional(),
  /** `proxy_connect_timeout`, `proxy_read_timeout`, `proxy_send_timeout`. */
  timeouts: z.strictObject({ connectMs: ms.optional(), readMs: ms.optional(), sendMs: ms.optional() }).optional(),
  /** `worker_processes` (default 1). */
  workerProcesses: z.number().int().min(1).max(64).optional(),
  /** `zone` in the upstream block: the workers share one balancer state (default true). */
  zone: z.boolean().optional(),
});
export type NginxBlock = z.infer<typeof NginxBlockSchema>;

export type NginxTranslation = { settings: NginxSettings; problems?: undefined } | { settings?: undefined; problems: string[] };

/** What `cfg` means on NGINX, or every setting NGINX cannot express (one line each). */
export function nginxSettings(cfg: RunConfig): NginxTranslation {
  const block = cfg.proxies?.nginx ?? {};
  const problems: string[] = weightProblems(cfg);
  const balance = block.balance !== undefined ? parseNginxBalance(block.balance) : translateBalance(cfg, problems);
  panicProblems(cfg, problems);
  const retry = translateRetry(cfg, block, problems);
  const health = translateHealth(cfg, block, problems);
  if (cfg.balancer.slowStart) {
    problems.push(problem('balancer.slowStart', cfg.balancer.slowStart, 'has no NGINX open source equivalent (slow_start is NGINX Plus only); remove balancer.slowStart'));
  }
  if (problems.length) return { problems };
  const t = cfg.timeouts;
  const readMs = block.timeouts?.readMs ?? t.perTryMs ?? t.requestMs;
  return {
    settings: {
      balance,
      ...retry,
      ...health,
      timeouts: { connectMs: block.timeouts?.connectMs ?? t.connectMs, readMs, sendMs: block.timeouts?.sendMs ?? readMs },
      workerProcesses: block.workerProcesses ?? NGINX_DEFAULTS.workerProcesses,
      zone: block.zone ?? NGINX_DEFAULTS.zone,
    },
  };
}

export function parseNginxBalance(text: (typeof NGINX_BALANCE)[number]): NginxBalance {
  switch (text) {
    case 'round-robin': case 'least_conn': case 'ip_hash': return { method: text };
    case 'hash $remote_addr': return { method: 'hash', consistent: false };
    case 'hash $remote_addr consistent': return { method: 'hash', consistent: true };
    case 'random': return { method: 'random', two: false };
    case 'random two': case 'random two least_conn': return { method: 'random', two: true };
  }
}

/** One line: the path, what was asked, why NGINX cannot do it, and what to do instead. */
function problem(path: string, value: unknown, why: string): string {
  return `${path}: ${JSON.stringify(value)} ${why}`;
}

/** `weight=` is a positive integer. */
function weightProblems(cfg: RunConfig): string[] {
  const weights: Array<[string, number | undefined]> = [
    ['servers.template.weight', cfg.servers.template.weight],
    ...Object.entries(cfg.servers.overrides).map(([id, o]): [string, number | undefined] => [`servers.overrides.${id}.weight`, o.weight]),
    ...cfg.changes.map((c, i): [string, number | undefined] => [`changes.${i}.weight`, c.kind === 'remove' ? undefined : c.weight]),
  ];
  return weights
    .filter(([, w]) => w !== undefined && !(Number.isInteger(w) && w >= 1))
    .map(([path, w]) => problem(path, w, 'has no NGINX equivalent: weight= is a positive integer'));
}

const NEAREST_HASH = 'nearest: hash $remote_addr consistent (set proxies.nginx.balance)';

function translateBalance(cfg: RunConfig, problems: string[]): NginxBalance {
  const b = cfg.balancer;
  switch (b.policy) {
    case 'round-robin': case 'weighted-round-robin': case 'nginx-round-robin': return { method: 'round-robin' };
    case 'least-connections': case 'nginx-least-conn': return { method: 'least_conn' };
    case 'ip-hash': case 'nginx-ip-hash': return { method: 'ip_hash' };
    case 'nginx-hash': return { method: 'hash', consistent: b.consistent };
    case 'random': return { method: 'random', two: false };
    case 'nginx-random': return { method: 'random', two: b.two };
    case 'p2c':
      if (b.choices !== 2) problems.push(problem('balancer.choices', b.choices, 'has no NGINX equivalent: random draws one or two (random two least_conn); use 2'));
      return { method: 'random', two: true };
    case 'ring-hash':
      if (b.ringPreset !== 'ketama') problems.push(problem('balancer.ringPreset', b.ringPreset, 'has no NGINX equivalent: hash … consistent is ketama with 160 points per weight; use "ketama"'));
      if (b.vnodes !== DEFAULT_VNODES) problems.push(problem('balancer.vnodes', b.vnodes, 'has no NGINX equivalent: hash … consistent places 160 points per weight; drop vnodes'));
      return { method: 'hash', consistent: true };
    case 'peak-ewma':
      problems.push(problem('balancer.policy', b.policy, 'has no NGINX open source equivalent; nearest: least_conn (set proxies.nginx.balance)'));
      return { method: 'least_conn' };
    case 'maglev': case 'rendezvous': case 'bounded-load':
      problems.push(problem('balancer.policy', b.policy, `has no NGINX equivalent; ${NEAREST_HASH}`));
      return { method: 'hash', consistent: true };
    case 'haproxy-roundrobin': case 'haproxy-static-rr': case 'haproxy-leastconn': case 'haproxy-first':
    case 'haproxy-random': case 'haproxy-source':
      problems.push(problem('balancer.policy', b.policy, 'is a model of HAProxy (run it with --proxy haproxy); set proxies.nginx.balance for NGINX'));
      return { method: 'round-robin' };
    case 'caddy-round-robin': case 'caddy-least-conn': case 'caddy-random': case 'caddy-random-choose': case 'caddy-first': case 'caddy-ip-hash':
      problems.push(problem('balancer.policy', b.policy, 'is a model of Caddy (run it with --proxy caddy); set proxies.nginx.balance for NGINX'));
      return { method: 'round-robin' };
  }
}

const PANIC_DEFAULT_PERCENT = 50;

function panicProblems(cfg: RunConfig, problems: string[]): void {
  const p = cfg.balancer.panicThresholdPercent;
  if (p !== 0 && p !== PANIC_DEFAULT_PERCENT) {
    problems.push(problem('balancer.panicThresholdPercent', p, 'has no NGINX equivalent: NGINX never sends to a failed server while fail_timeout runs ("no live upstreams": 502); use 0 or the default 50'));
  }
}

/** The statuses proxy_next_upstream can name (http_<status>). */
const NEXT_STATUSES = new Set([500, 502, 503, 504, 403, 404, 429]);
/** The generic retry section's defaults: a field left at its default stands for the proxy's own behaviour. */
const RETRY_DEFAULTS = RetrySchema.parse({});

type RetrySettings = Pick<NginxSettings, 'nextUpstream' | 'nextUpstreamTries' | 'nextUpstreamTimeoutMs'>;

function translateRetry(cfg: RunConfig, block: NginxBlock, problems: string[]): RetrySettings {
  const generic = cfg.retry;
  const replaced = block.nextUpstream !== undefined;
  let nextUpstream: string[];
  if (replaced) nextUpstream = block.nextUpstream!.includes('off') ? [] : [...block.nextUpstream!];
  else if (generic) nextUpstream = genericNextUpstream(generic, cfg.timeouts.perTryMs !== undefined, problems);
  else nextUpstream = [...NGINX_DEFAULTS.nextUpstream];
  const t = cfg.timeouts;
  // Fulcrum's deadline over all attempts: nearest is no new try after it (the running one goes on).
  const deadline = t.perTryMs !== undefined && t.requestMs !== REQUEST_DEFAULT_MS ? t.requestMs : 0;
  return {
    nextUpstream,
    nextUpstreamTries: block.nextUpstreamTries ?? (generic && !replaced ? generic.maxAttempts : 0),
    nextUpstreamTimeoutMs: block.nextUpstreamTimeoutMs ?? deadline,
  };
}

const REQUEST_DEFAULT_MS = 30_000;

function genericNextUpstream(retry: RetryConfig, perTry: boolean, problems: string[]): string[] {
  const hint = 'set proxies.nginx.nextUpstream to use NGINX\'s own retries';
  const conditions = ['error'];
  if (perTry) conditions.push('timeout'); // a per-try timeout is retried; the request deadline is not
  for (const status of retry.retryOn) {
    if (NEXT_STATUSES.has(status)) conditions.push(`http_${status}`);
    else problems.push(problem('retry.retryOn', status, `has no proxy_next_upstream condition (allowed statuses: ${[...NEXT_STATUSES].join(', ')}); ${hint}`));
  }
  if (retry.budget !== undefined) problems.push(problem('retry.budget', retry.budget, `has no NGINX equivalent (no retry budget); ${hint}`));
  if (retry.backoffBaseMs !== RETRY_DEFAULTS.backoffBaseMs || retry.backoffMaxMs !== RETRY_DEFAULTS.backoffMaxMs) {
    problems.push(problem('retry.backoffBaseMs', [retry.backoffBaseMs, retry.backoffMaxMs], `has no NGINX equivalent: NGINX tries the next server at once; ${hint}`));
  }
  if (retry.retryAfterMaxMs !== RETRY_DEFAULTS.retryAfterMaxMs) {
    problems.push(problem('retry.retryAfterMaxMs', retry.retryAfterMaxMs, `has no NGINX equivalent: NGINX ignores Retry-After; ${hint}`));
  }
  if (retry.maxReplayBodyBytes !== RETRY_DEFAULTS.maxReplayBodyBytes) {
    problems.push(problem('retry.maxReplayBodyBytes', retry.maxReplayBodyBytes, `has no NGINX equivalent: NGINX buffers the whole body (proxy_request_buffering); ${hint}`));
  }
  const methods = retry.idempotentMethods;
  if (methods.length !== RETRY_DEFAULTS.idempotentMethods.length || methods.some((m, i) => m !== RETRY_DEFAULTS.idempotentMethods[i])) {
    problems.push(problem('retry.idempotentMethods', methods, `has no NGINX equivalent: NGINX holds back POST, LOCK and PATCH once sent unless non_idempotent; ${hint}`));
  }
  return conditions;
}

type HealthSettings = Pick<NginxSettings, 'maxFails' | 'failTimeoutMs'>;

const OUTLIER_DEFAULTS = { maxEjectionMs: 300_000, jitterMs: 0, maxEjectionPercent: 50, count500: false } as const;

function translateHealth(cfg: RunConfig, block: NginxBlock, problems: string[]): HealthSettings {
  const active = cfg.health?.active;
  // Setting the block's maxFails chooses NGINX's passive health in their place.
  if (active && block.maxFails === undefined) {
    problems.push(problem('health.active', active, 'NGINX open source has no active health checks; remove health.active or use proxies.nginx.maxFails'));
  }
  const own = { maxFails: block.maxFails, failTimeoutMs: block.failTimeoutMs };
  const o = cfg.health?.outlier;
  const fromPolicy = 'maxFails' in cfg.balancer ? cfg.balancer : undefined; // an nginx-* policy's own options
  if (!o || (own.maxFails !== undefined && own.failTimeoutMs !== undefined)) {
    return {
      maxFails: own.maxFails ?? fromPolicy?.maxFails ?? NGINX_DEFAULTS.maxFails,
      failTimeoutMs: own.failTimeoutMs ?? fromPolicy?.failTimeoutMs ?? NGINX_DEFAULTS.failTimeoutMs,
    };
  }
  const hint = 'NGINX counts failures per server (max_fails) and skips it for fail_timeout; set proxies.nginx.maxFails and failTimeoutMs';
  for (const key of Object.keys(OUTLIER_DEFAULTS) as Array<keyof typeof OUTLIER_DEFAULTS>) {
    if (o[key] !== OUTLIER_DEFAULTS[key]) problems.push(problem(`health.outlier.${key}`, o[key], `has no NGINX equivalent: ${hint}`));
  }
  if (o.decayMs !== undefined) problems.push(problem('health.outlier.decayMs', o.decayMs, `has no NGINX equivalent: ${hint}`));
  if (own.failTimeoutMs === undefined && o.baseEjectionMs % 1000 !== 0) {
    problems.push(problem('health.outlier.baseEjectionMs', o.baseEjectionMs, `has no NGINX equivalent: fail_timeout is whole seconds; ${hint}`));
  }
  return { maxFails: own.maxFails ?? o.consecutiveFailures, failTimeoutMs: own.failTimeoutMs ?? o.baseEjectionMs };
}
