// The experiment on HAProxy 2.6: the optional `proxies.haproxy` block (settings in
// HAProxy's own vocabulary, doc/configuration.txt) and the translation of the generic
// sections into HaproxySettings. A generic setting HAProxy cannot express is a problem
// (one line naming its JSON path) only when it differs from its schema default; at the
// default it stands for HAProxy's own behaviour. A field of the block wins over the
// translated one and silences the problems of the generic settings it replaces.
import { z } from 'zod';
import type { RunConfig } from '../schema.ts';
import { type RetryConfig, RetrySchema } from '../../core/config.ts';
import { DEFAULT_VNODES } from '../../core/policies/ring.ts';
import type { HaproxyBalance, HaproxyHashType, HaproxySettings } from './haproxy-settings.ts';

/** `balance` algorithms, as written in haproxy.cfg (`random(<draws>)` also allowed). */
export const HAPROXY_BALANCE = ['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'random'] as const;
const HASH_FUNCTIONS = ['sdbm', 'djb2', 'wt6', 'crc32'] as const;
/** `retry-on` keywords and status codes HAProxy 2.6 accepts (configuration.txt, retry-on). */
export const RETRY_ON_KEYWORDS = [
  'none', 'conn-failure', 'empty-response', 'junk-response', 'response-timeout', '0rtt-rejected',
  '401', '403', '404', '408', '425', '500', '501', '502', '503', '504', 'all-retryable-errors',
] as const;
const ON_ERROR = ['fastinter', 'fail-check', 'sudden-death', 'mark-down'] as const;

/** HAProxy's defaults: `inter 2s`, `rise 2`, `fall 3` (configuration.txt, server keywords). */
const DEFAULT_INTER_MS = 2_000;
/** Longest timeout accepted (~11.6 days): beyond this a value is a typo. */
const TIMEOUT_MAX_MS = 1e9;

const ms = z.number().int().positive().max(TIMEOUT_MAX_MS);
const allowedList = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/**
 * A section that `false` turns off: read as `{ "enabled": false }`, so a mistake inside the
 * object still gets its own path and allowed values (a union would only say "invalid input").
 */
function offOr<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.preprocess((v) => (v === false ? { enabled: false } : v), z.strictObject({ enabled: z.boolean().default(true), ...shape }));
}

const BalanceSchema = z.string().refine((s) => parseBalance(s) !== undefined, {
  message: `allowed: ${allowedList(HAPROXY_BALANCE)}, "random(<draws>)" with draws 1-100`,
});

const HashTypeSchema = z.string().refine((s) => parseHashType(s) !== undefined, {
  message: `allowed: "<map-based|consistent> [<${HASH_FUNCTIONS.join('|')}> [avalanche]]", e.g. "consistent sdbm avalanche"`,
});

/** The `proxies.haproxy` block: HAProxy's own settings, each one optional. */
export const HaproxyBlockSchema = z.strictObject({
  /** `balance`: roundrobin, static-rr, leastconn, first, source, random, random(N). */
  balance: BalanceSchema.optional(),
  /** `hash-type <method> [<function> [avalanche]]` (balance source only). */
  hashType: HashTypeSchema.optional(),
  /** `hash-balance-factor`: 0 (off) or a percentage above 100 (consistent source, random). */
  hashBalanceFactor: z.number().int().min(0).max(100_000).refine((f) => f === 0 || f > 100, { message: 'must be 0 (off) or above 100 (a percentage of the average load)' }).optional(),
  /** `retries`: attempts after the first; replaces the generic `retry` section. */
  retries: z.number().int().min(0).max(100).optional(),
  /** `option redispatch [<interval>]`: true = -1 (the last retry), false/0 = off. */
  redispatch: z.union([z.boolean(), z.number().int().min(-100).max(100)]).optional(),
  /** `retry-on` keywords and status codes. */
  retryOn: z.array(z.enum(RETRY_ON_KEYWORDS)).min(1).max(RETRY_ON_KEYWORDS.length).optional(),
  /** `timeout connect/server/client/queue/check`. */
  timeouts: z.strictObject({
    connectMs: ms.optional(), serverMs: ms.optional(), clientMs: ms.optional(), queueMs: ms.optional(), checkMs: ms.optional(),
  }).optional(),
  /** `option httpchk GET <path>` + `check inter rise fall [fastinter] [downinter]`; false: no checks. */
  check: offOr({
    path: z.string().startsWith('/').default('/heartbeat'),
    interMs: ms.default(DEFAULT_INTER_MS),
    rise: z.number().int().min(1).max(1_000).default(2),
    fall: z.number().int().min(1).max(1_000).default(3),
    fastinterMs: ms.optional(),
    downinterMs: ms.optional(),
  }).optional(),
  /** `observe layer7 error-limit N on-error X`; false: off. */
  observe: offOr({
    errorLimit: z.number().int().min(1).max(1_000).default(10),
    onError: z.enum(ON_ERROR).default('fail-check'),
  }).optional(),
  /** `slowstart <ms>`; 0: off. */
  slowstartMs: z.number().int().min(0).max(TIMEOUT_MAX_MS).optional(),
  /** Per-server `maxconn`; more concurrent requests wait in the server's queue. */
  maxconn: z.number().int().min(1).max(1_000_000).optional(),
});
export type HaproxyBlock = z.infer<typeof HaproxyBlockSchema>;

/** The experiment's `proxies` section: one optional block per proxy (other proxies ignore it). */
/** `random(3)` → { algorithm: 'random', draws: 3 }; undefined for anything HAProxy would refuse. */
export function parseBalance(text: string): HaproxyBalance | undefined {
  const random = /^random(?:\((\d{1,3})\))?$/.exec(text);
  if (random) {
    const draws = random[1] === undefined ? 2 : Number(random[1]); // `random` alone draws 2 (configuration.txt)
    return draws >= 1 && draws <= 100 ? { algorithm: 'random', draws } : undefined;
  }
  if (text === 'source') return { algorithm: 'source', hashType: defaultHashType('map-based') };
  if (text === 'roundrobin' || text === 'static-rr' || text === 'leastconn' || text === 'first') return { algorithm: text };
  return undefined;
}

/**
 * `consistent` → consistent sdbm avalanche; `map-based` → map-based sdbm. HAProxy's
 * parser (cfgparse-listen.c, "hash-type") adds avalanche only when consistent names no function.
 */
export function parseHashType(text: string): HaproxyHashType | undefined {
  const m = /^(map-based|consistent)(?: (sdbm|djb2|wt6|crc32)(?: (avalanche))?)?$/.exec(text.trim().replace(/\s+/g, ' '));
  if (!m) return undefined;
  const method = m[1] as HaproxyHashType['method'];
  if (m[2] === undefined) return defaultHashType(method);
  return { method, function: m[2] as HaproxyHashType['function'], avalanche: m[3] !== undefined };
}

function defaultHashType(method: HaproxyHashType['method']): HaproxyHashType {
  return { method, function: 'sdbm', avalanche: method === 'consistent' };
}

// ---- the translation -----------------------------------------------------------------

export type HaproxyTranslation = { settings: HaproxySettings; problems?: undefined } | { settings?: undefined; problems: string[] };

/** What `cfg` means on HAProxy, or every setting HAProxy cannot express (one line each). */
export function haproxySettings(cfg: RunConfig): HaproxyTranslation {
  const block = cfg.proxies?.haproxy ?? {};
  const problems: string[] = weightProblems(cfg);
  const balance = translateBalance(cfg, block, problems);
  const retry = translateRetry(cfg, block, problems);
  const timeouts = translateTimeouts(cfg, block, problems);
  const check = translateCheck(cfg, block, problems);
  const observe = translateObserve(cfg, block, check !== undefined, problems);
  const slowstartMs = translateSlowStart(cfg, block, problems);
  if (problems.length) return { problems };
  const settings: HaproxySettings = { balance, ...retry, timeouts };
  if (check) settings.check = check;
  if (observe) settings.observe = observe;
  if (slowstartMs) settings.slowstartMs = slowstartMs;
  const policyMaxconn = 'maxconn' in cfg.balancer ? cfg.balancer.maxconn : undefined; // a haproxy-* policy's own option
  const maxconn = block.maxconn ?? policyMaxconn;
  if (maxconn !== undefined) settings.maxconn = maxconn;
  if (check && settings.timeouts.checkMs === undefined) settings.timeouts.checkMs = cfg.health?.active?.timeoutMs ?? check.interMs;
  return { settings };
}

/** HAProxy's `weight` is an integer 0-256 (server-t.h SRV_UWGHT_MAX). */
const MAX_WEIGHT = 256;

function weightProblems(cfg: RunConfig): string[] {
  const weights: Array<[string, number | undefined]> = [
    ['servers.template.weight', cfg.servers.template.weight],
    ...Object.entries(cfg.servers.overrides).map(([id, o]): [string, number | undefined] => [`servers.overrides.${id}.weight`, o.weight]),
    ...cfg.changes.map((c, i): [string, number | undefined] => [`changes.${i}.weight`, c.kind === 'remove' ? undefined : c.weight]),
  ];
  return weights
    .filter(([, w]) => w !== undefined && !(Number.isInteger(w) && w <= MAX_WEIGHT))
    .map(([path, w]) => problem(path, w, `has no HAProxy equivalent: a server weight is an integer from 1 to ${MAX_WEIGHT}`));
}

/** One line: the path, what was asked, why HAProxy cannot do it, and what to do instead. */
function problem(path: string, value: unknown, why: string): string {
  return `${path}: ${JSON.stringify(value)} ${why}`;
}

function translateBalance(cfg: RunConfig, block: HaproxyBlock, problems: string[]): HaproxyBalance {
  if (block.balance !== undefined) {
    const balance = parseBalance(block.balance)!;
    return withHashOptions(balance, block, problems);
  }
  const b = cfg.balancer;
  let balance: HaproxyBalance;
  switch (b.policy) {
    case 'round-robin':
    case 'weighted-round-robin': balance = { algorithm: 'roundrobin' }; break;
    case 'random': balance = { algorithm: 'random', draws: 1 }; break;
    case 'p2c': balance = { algorithm: 'random', draws: b.choices }; break;
    case 'least-connections': balance = { algorithm: 'leastconn' }; break;
    case 'ip-hash': balance = { algorithm: 'source', hashType: defaultHashType('map-based') }; break;
    case 'ring-hash':
      if (b.ringPreset !== 'ketama') problems.push(problem('balancer.ringPreset', b.ringPreset, `has no HAProxy equivalent: ${CHASH_POINTS}; use "ketama"`));
      if (b.vnodes !== DEFAULT_VNODES) problems.push(problem('balancer.vnodes', b.vnodes, `has no HAProxy equivalent: ${CHASH_POINTS}; drop vnodes`));
      balance = { algorithm: 'source', hashType: defaultHashType('consistent') };
      break;
    case 'bounded-load':
      if (b.table !== 'ring') problems.push(problem('balancer.table', b.table, 'has no HAProxy equivalent: hash-balance-factor bounds the consistent-hash tree only; use "ring"'));
      balance = { algorithm: 'source', hashType: defaultHashType('consistent'), hashBalanceFactor: Math.round(b.balanceFactor * 100) };
      if (balance.hashBalanceFactor! <= 100) {
        problems.push(problem('balancer.balanceFactor', b.balanceFactor, 'has no HAProxy equivalent: hash-balance-factor must be above 100 (a factor above 1.0)'));
      }
      break;
    // The models themselves, named in `balancer`: they are HAProxy's algorithms already.
    case 'haproxy-roundrobin': balance = { algorithm: 'roundrobin' }; break;
    case 'haproxy-static-rr': balance = { algorithm: 'static-rr' }; break;
    case 'haproxy-leastconn': balance = { algorithm: 'leastconn' }; break;
    case 'haproxy-first': balance = { algorithm: 'first' }; break;
    case 'haproxy-random':
      balance = { algorithm: 'random', draws: b.draws };
      break;
    case 'haproxy-source':
      balance = { algorithm: 'source', hashType: { method: b.hashMethod, function: 'sdbm', avalanche: b.avalanche } };
      if (b.hashBalanceFactor) balance.hashBalanceFactor = b.hashBalanceFactor;
      break;
    case 'peak-ewma':
      problems.push(problem('balancer.policy', b.policy, 'has no HAProxy equivalent; nearest: leastconn (set proxies.haproxy.balance)'));
      balance = { algorithm: 'leastconn' };
      break;
    case 'nginx-round-robin':
    case 'nginx-least-conn':
    case 'nginx-ip-hash':
    case 'nginx-hash':
    case 'nginx-random':
      problems.push(problem('balancer.policy', b.policy, 'is a model of NGINX (run it with --proxy nginx); set proxies.haproxy.balance for HAProxy'));
      balance = { algorithm: 'roundrobin' };
      break;
    case 'maglev':
    case 'rendezvous':
      problems.push(problem('balancer.policy', b.policy, 'has no HAProxy equivalent; nearest: source with hash-type consistent (set proxies.haproxy.balance and hashType)'));
      balance = { algorithm: 'source', hashType: defaultHashType('consistent') };
      break;
    case 'caddy-round-robin': case 'caddy-least-conn': case 'caddy-random': case 'caddy-random-choose': case 'caddy-first': case 'caddy-ip-hash':
      problems.push(problem('balancer.policy', b.policy, 'is a model of Caddy, not an HAProxy algorithm (set proxies.haproxy.balance)'));
      balance = { algorithm: 'roundrobin' };
      break;
  }
  if (b.panicThresholdPercent !== 0 && b.panicThresholdPercent !== PANIC_DEFAULT_PERCENT) {
    problems.push(problem('balancer.panicThresholdPercent', b.panicThresholdPercent, 'has no HAProxy equivalent: HAProxy never sends traffic to servers that are down (use 0 or the default 50)'));
  }
  return withHashOptions(balance, block, problems);
}

/** Fulcrum's default panic threshold; at it the file means "HAProxy's own behaviour". */
const PANIC_DEFAULT_PERCENT = 50;
const CHASH_POINTS = 'hash-type consistent fixes the points per server from its weight (lb_chash.c)';

/** Applies `hashType` and `hashBalanceFactor` of the block; both need an algorithm that hashes. */
function withHashOptions(balance: HaproxyBalance, block: HaproxyBlock, problems: string[]): HaproxyBalance {
  if (block.hashType !== undefined) {
    if (balance.algorithm !== 'source') {
      problems.push(problem('proxies.haproxy.hashType', block.hashType, `applies to balance source only (balance is ${balance.algorithm})`));
    } else {
      balance = { ...balance, hashType: parseHashType(block.hashType)! };
    }
  }
  if (block.hashBalanceFactor !== undefined) {
    const factor = block.hashBalanceFactor === 0 ? undefined : block.hashBalanceFactor;
    if (balance.algorithm === 'source') {
      if (factor !== undefined && balance.hashType.method !== 'consistent') {
        problems.push(problem('proxies.haproxy.hashBalanceFactor', block.hashBalanceFactor, 'needs hash-type consistent (set proxies.haproxy.hashType to "consistent")'));
      }
      const { hashBalanceFactor: _, ...rest } = balance;
      balance = factor === undefined ? rest : { ...rest, hashBalanceFactor: factor };
    } else if (balance.algorithm !== 'random' && factor !== undefined) {
      problems.push(problem('proxies.haproxy.hashBalanceFactor', block.hashBalanceFactor, `applies to balance source (consistent) and random only (balance is ${balance.algorithm})`));
    }
  }
  return balance;
}

/** HAProxy's `retry-on` status keywords (configuration.txt, retry-on). */
const RETRYABLE_STATUSES = new Set([401, 403, 404, 408, 425, 500, 501, 502, 503, 504]);
/** The generic retry section's defaults: a field left at its default stands for the proxy's own behaviour. */
const RETRY_DEFAULTS = RetrySchema.parse({});

type RetrySettings = Pick<HaproxySettings, 'retries' | 'redispatch' | 'retryOn'>;

function translateRetry(cfg: RunConfig, block: HaproxyBlock, problems: string[]): RetrySettings {
  const generic = cfg.retry;
  const replaced = block.retries !== undefined;
  if (generic && !replaced) genericRetryProblems(generic, problems);
  // Fulcrum's retries avoid the backends already tried: the nearest is a redispatch on every retry.
  const retries = block.retries ?? (generic ? generic.maxAttempts - 1 : 0);
  let redispatch: number | undefined = generic && !replaced ? 1 : undefined;
  if (block.redispatch !== undefined) {
    redispatch = block.redispatch === true ? -1 : block.redispatch === false || block.redispatch === 0 ? undefined : block.redispatch;
  }
  let retryOn: string[];
  if (block.retryOn !== undefined) retryOn = [...block.retryOn];
  else if (generic && !replaced) retryOn = genericRetryOn(generic, cfg.timeouts.perTryMs !== undefined, problems);
  else retryOn = ['conn-failure']; // HAProxy's default
  const out: RetrySettings = { retries, retryOn };
  if (redispatch !== undefined) out.redispatch = redispatch;
  return out;
}

function genericRetryOn(retry: RetryConfig, perTry: boolean, problems: string[]): string[] {
  const keywords = ['conn-failure', 'empty-response'];
  if (perTry) keywords.push('response-timeout'); // a per-try timeout is retried; the request deadline is not
  for (const status of retry.retryOn) {
    if (RETRYABLE_STATUSES.has(status)) keywords.push(String(status));
    else problems.push(problem('retry.retryOn', status, `has no HAProxy retry-on keyword (allowed statuses: ${[...RETRYABLE_STATUSES].join(', ')})`));
  }
  return keywords;
}

function genericRetryProblems(retry: RetryConfig, problems: string[]): void {
  const hint = 'set proxies.haproxy.retries to use HAProxy\'s own retries';
  if (retry.budget !== undefined) problems.push(problem('retry.budget', retry.budget, `has no HAProxy equivalent (no retry budget); ${hint}`));
  if (retry.backoffBaseMs !== RETRY_DEFAULTS.backoffBaseMs || retry.backoffMaxMs !== RETRY_DEFAULTS.backoffMaxMs) {
    problems.push(problem('retry.backoffBaseMs', [retry.backoffBaseMs, retry.backoffMaxMs], `has no HAProxy equivalent: HAProxy waits min(timeout connect, 1 s) before retrying a failed connection and retries L7 failures at once; ${hint}`));
  }
  if (retry.retryAfterMaxMs !== RETRY_DEFAULTS.retryAfterMaxMs) {
    problems.push(problem('retry.retryAfterMaxMs', retry.retryAfterMaxMs, `has no HAProxy equivalent: HAProxy ignores Retry-After; ${hint}`));
  }
  if (retry.maxReplayBodyBytes !== RETRY_DEFAULTS.maxReplayBodyBytes) {
    problems.push(problem('retry.maxReplayBodyBytes', retry.maxReplayBodyBytes, `has no HAProxy equivalent: HAProxy replays bodies that fit one buffer (tune.bufsize); ${hint}`));
  }
  const methods = retry.idempotentMethods;
  if (methods.length !== RETRY_DEFAULTS.idempotentMethods.length || methods.some((m, i) => m !== RETRY_DEFAULTS.idempotentMethods[i])) {
    problems.push(problem('retry.idempotentMethods', methods, `has no HAProxy equivalent: HAProxy's retry-on does not look at the method; ${hint}`));
  }
}

function translateTimeouts(cfg: RunConfig, block: HaproxyBlock, problems: string[]): HaproxySettings['timeouts'] {
  const t = cfg.timeouts;
  const own = block.timeouts ?? {};
  // `timeout server` is HAProxy's per-try limit; without perTryMs the request deadline is the nearest.
  const serverMs = own.serverMs ?? t.perTryMs ?? t.requestMs;
  if (own.serverMs === undefined && t.perTryMs !== undefined && t.requestMs !== REQUEST_DEFAULT_MS) {
    problems.push(problem('timeouts.requestMs', t.requestMs, 'has no HAProxy equivalent: HAProxy has no deadline over all attempts (timeout server limits each); set proxies.haproxy.timeouts.serverMs'));
  }
  const out: HaproxySettings['timeouts'] = {
    connectMs: own.connectMs ?? t.connectMs,
    serverMs,
    clientMs: own.clientMs ?? t.requestMs,
  };
  if (own.queueMs !== undefined) out.queueMs = own.queueMs;
  if (own.checkMs !== undefined) out.checkMs = own.checkMs;
  return out;
}

const REQUEST_DEFAULT_MS = 30_000;

function translateCheck(cfg: RunConfig, block: HaproxyBlock, problems: string[]): HaproxySettings['check'] {
  if (block.check?.enabled === false) return undefined;
  if (block.check !== undefined) {
    const { enabled: _, fastinterMs, downinterMs, ...rest } = block.check;
    return { ...rest, ...(fastinterMs !== undefined ? { fastinterMs } : {}), ...(downinterMs !== undefined ? { downinterMs } : {}) };
  }
  const a = cfg.health?.active;
  if (!a) return undefined;
  if (a.jitterMs !== 0) problems.push(problem('health.active.jitterMs', a.jitterMs, 'has no per-backend HAProxy equivalent (spread-checks is global, in percent); set proxies.haproxy.check'));
  // requireFirstPass either way: HAProxy starts servers up and lets checks take them down.
  return { path: a.path, interMs: a.intervalMs, rise: a.rise, fall: a.fall };
}

const OUTLIER_DEFAULTS = { baseEjectionMs: 30_000, maxEjectionMs: 300_000, jitterMs: 0, maxEjectionPercent: 50, count500: false } as const;

function translateObserve(cfg: RunConfig, block: HaproxyBlock, checks: boolean, problems: string[]): HaproxySettings['observe'] {
  if (block.observe?.enabled === false) return undefined;
  let observe: HaproxySettings['observe'];
  let path = 'proxies.haproxy.observe';
  if (block.observe !== undefined) {
    observe = { errorLimit: block.observe.errorLimit, onError: block.observe.onError };
  } else {
    const o = cfg.health?.outlier;
    if (!o) return undefined;
    path = 'health.outlier';
    const hint = 'HAProxy\'s observe layer7 marks the server down until its checks bring it back; set proxies.haproxy.observe';
    for (const key of Object.keys(OUTLIER_DEFAULTS) as Array<keyof typeof OUTLIER_DEFAULTS>) {
      if (o[key] !== OUTLIER_DEFAULTS[key]) problems.push(problem(`health.outlier.${key}`, o[key], `has no HAProxy equivalent: ${hint}`));
    }
    if (o.decayMs !== undefined) problems.push(problem('health.outlier.decayMs', o.decayMs, `has no HAProxy equivalent: ${hint}`));
    observe = { errorLimit: o.consecutiveFailures, onError: 'mark-down' };
  }
  if (!checks) problems.push(problem(path, observe, 'needs active checks on HAProxy (observe works on servers with "check"; a marked-down server comes back only by its checks): add health.active or proxies.haproxy.check'));
  return observe;
}

function translateSlowStart(cfg: RunConfig, block: HaproxyBlock, problems: string[]): number | undefined {
  if (block.slowstartMs !== undefined) return block.slowstartMs || undefined;
  const s = cfg.balancer.slowStart;
  if (!s) return undefined;
  const hint = 'HAProxy ramps the weight linearly from 0 (slowstart); set proxies.haproxy.slowstartMs';
  if (s.aggression !== 1) problems.push(problem('balancer.slowStart.aggression', s.aggression, `has no HAProxy equivalent: ${hint}`));
  if (s.minWeightPercent !== 10) problems.push(problem('balancer.slowStart.minWeightPercent', s.minWeightPercent, `has no HAProxy equivalent: ${hint}`));
  return s.windowMs;
}
