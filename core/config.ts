// The `balancer`, `health`, `retry` and `timeouts` sections shared by experiment files
// (sim/, live/) and the proxy's --config file. One schema, so both engines accept and
// reject exactly the same input. Defaults follow the field (Envoy, HAProxy, Finagle)
// unless a comment says otherwise.
import { z } from 'zod';
import { closestName, didYouMean } from './did-you-mean.ts';
import type { PolicyDefinition } from './policies/define.ts';
import { POLICIES, POLICY_NAMES, type PolicyName } from './policies/index.ts';
import type { ObserveConfig } from './health/active.ts';
import type { CaddyPassiveConfig } from './caddy-passive.ts';

export { POLICY_NAMES, type PolicyName };

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const percent = z.number().min(0).max(100);
const httpStatus = z.number().int().min(100).max(599);

export const SlowStartSchema = z.strictObject({
  /** Ramp length after a backend (re)joins. */
  windowMs: positive,
  /** Envoy's aggression: weight × (t / window)^(1 / aggression). 1 = linear. */
  aggression: positive.default(1),
  /** Floor of the ramp, so a joining backend is never starved completely. */
  minWeightPercent: percent.default(10),
});

/** Fields every policy accepts. */
const commonBalancerOptions = {
  /** Below this share of healthy backends, balance over all of them (Envoy: 50 %). 0 disables. */
  panicThresholdPercent: percent.default(50),
};

/** Only policies that read live weights accept slowStart (hash tables use configured weights). */
const liveWeightOptions = { slowStart: SlowStartSchema.optional() };

/** One member of the union: `policy`, the common fields, and the fields this policy owns. */
function policySchema(def: PolicyDefinition) {
  const shape = { policy: z.literal(def.name), ...commonBalancerOptions, ...(def.traits.liveWeights ? liveWeightOptions : {}), ...def.options };
  const own = Object.keys(shape).filter((k) => k !== 'policy');
  return z.strictObject(shape, {
    error: (issue) => issue.code === 'unrecognized_keys'
      ? `${issue.keys.map((k) => JSON.stringify(k)).join(', ')} ${issue.keys.length > 1 ? 'are not options' : 'is not an option'} of ${def.name}`
        + ` (its options: ${own.join(', ')}${issue.keys.includes('slowStart') ? '; slowStart needs a policy that reads live weights: '
          + POLICIES.filter((p) => p.traits.liveWeights).map((p) => p.name).join(', ') : ''})`
      : undefined,
  });
}

/** The fields of one policy's `balancer` section, after defaults. */
type OptionsOf<D> = D extends PolicyDefinition<infer Name, infer Shape>
  ? { policy: Name } & z.output<z.ZodObject<Shape>> : never;
type Common = z.output<z.ZodObject<typeof commonBalancerOptions>> & { slowStart?: SlowStartConfig };

/** The `balancer` section: a union discriminated by `policy` (default round-robin). */
export type BalancerConfig = Common & OptionsOf<(typeof POLICIES)[number]>;

const unionOfPolicies = z.discriminatedUnion('policy', POLICIES.map((d) => policySchema(d as unknown as PolicyDefinition)) as unknown as
  [ReturnType<typeof policySchema>, ...ReturnType<typeof policySchema>[]], {
  error: (issue) => {
    const got = (issue.input as { policy?: unknown } | undefined)?.policy;
    return `allowed: ${POLICY_NAMES.map((n) => JSON.stringify(n)).join(', ')}${didYouMean(got, POLICY_NAMES)}`;
  },
});

export const BalancerSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('policy' in v) ? { ...v, policy: 'round-robin' } : v),
  unionOfPolicies,
) as unknown as z.ZodType<BalancerConfig, unknown>;

export const ActiveHealthSchema = z.strictObject({
  intervalMs: positive,
  timeoutMs: positive,
  /** Consecutive passes to go up (HAProxy default 2). */
  rise: z.number().int().min(1).default(2),
  /** Consecutive failures to go down (HAProxy default 3). */
  fall: z.number().int().min(1).default(3),
  /** Each interval is stretched by up to this much, so probes do not synchronise. */
  jitterMs: nonNegative.default(0),
  path: z.string().startsWith('/').default('/heartbeat'),
  /** A new backend gets no traffic until its first probe passes (Envoy warming). */
  requireFirstPass: z.boolean().default(true),
});

export const OutlierSchema = z.strictObject({
  consecutiveFailures: z.number().int().min(1).default(5),
  baseEjectionMs: positive.default(30_000),
  maxEjectionMs: positive.default(300_000),
  jitterMs: nonNegative.default(0),
  /** Never eject more than this share of the pool (but always at least one backend). */
  maxEjectionPercent: percent.default(50),
  /** Count 500 as a failure too (502/503/504 always count). */
  count500: z.boolean().default(false),
  /** Each healthy `decayMs` after an ejection ends, the ejection multiplier drops by one. Defaults to baseEjectionMs. */
  decayMs: positive.optional(),
});

export const HealthSchema = z.strictObject({
  active: ActiveHealthSchema.optional(),
  outlier: OutlierSchema.optional(),
});

const METHOD = z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method');

export const RetrySchema = z.strictObject({
  /** Attempts in total, the first included. */
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** Statuses that are retried for idempotent methods. */
  retryOn: z.array(httpStatus).default([502, 503, 504]),
  /** Methods retried after the request may have reached a backend (RFC 9110 §9.2.2). */
  idempotentMethods: z.array(METHOD).default(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']),
  /** Full-jitter exponential backoff (Envoy: 25 ms base, 250 ms cap). */
  backoffBaseMs: nonNegative.default(25),
  backoffMaxMs: nonNegative.default(250),
  /** Honour Retry-After on retried 503/429 answers, up to this long. */
  retryAfterMaxMs: nonNegative.default(1_000),
  /** Concurrent retries ≤ max(minConcurrent, ratio × active requests) (Envoy retry_budget). */
  budget: z.strictObject({
    ratio: z.number().min(0).max(1).default(0.2),
    minConcurrent: z.number().int().min(0).default(3),
  }).optional(),
  /** Request bodies up to this size are buffered so they can be replayed on retry. */
  maxReplayBodyBytes: z.number().int().nonnegative().default(64 * 1024),
});

export const TimeoutsSchema = z.strictObject({
  /** Overall deadline for one client request, all attempts and backoffs included. */
  requestMs: positive.default(30_000),
  /** Per attempt, until response headers arrive. */
  perTryMs: positive.optional(),
  connectMs: positive.default(1_000),
});

export type ActiveHealthConfig = z.infer<typeof ActiveHealthSchema> & {
  /**
   * Not a file setting: the engines' HAProxy mode counts checks as HAProxy does (one
   * counter, core/health/active.ts) instead of consecutive passes and failures.
   */
  counter?: 'haproxy';
  /** HAProxy's `fastinter` and `downinter` (counter 'haproxy' only). */
  fastinterMs?: number;
  downinterMs?: number;
}
export type OutlierConfig = z.infer<typeof OutlierSchema>;
export interface HealthConfig {
  active?: ActiveHealthConfig;
  outlier?: OutlierConfig;
  /** Not a file setting: the engines' HAProxy mode (`observe layer7`, with HAProxy's check counter). */
  observe?: ObserveConfig;
  /** Not a file setting: the engines' Caddy mode (passive health, core/caddy-passive.ts). */
  caddyPassive?: CaddyPassiveConfig;
  /** Not a file setting: Caddy mode, where a membership change is a config load that starts health afresh. */
  reloadResetsHealth?: boolean;
}
export type RetryConfig = z.infer<typeof RetrySchema>;
export type TimeoutsConfig = z.infer<typeof TimeoutsSchema>;
export type SlowStartConfig = z.infer<typeof SlowStartSchema> & {
  /** Not a file setting: the engines' HAProxy mode ramps in HAProxy's one-second steps (core/slow-start.ts). */
  steps?: 'haproxy';
};

/** The routing sections as one object; what the proxy's --config file holds. */
export const RoutingSchema = z.strictObject({
  balancer: BalancerSchema.default(BalancerSchema.parse({})),
  health: HealthSchema.optional(),
  retry: RetrySchema.optional(),
  timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
});
export type RoutingConfig = z.infer<typeof RoutingSchema>;

/** Cross-field rules a per-field schema cannot state. */
export function routingProblems(cfg: RoutingConfig): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const o = cfg.health?.outlier;
  if (o && o.maxEjectionMs < o.baseEjectionMs) {
    problems.push({ path: 'health.outlier.maxEjectionMs', message: `must be >= baseEjectionMs (${o.baseEjectionMs})` });
  }
  const a = cfg.health?.active;
  if (a && a.timeoutMs > a.intervalMs) {
    problems.push({ path: 'health.active.timeoutMs', message: `must be <= intervalMs (${a.intervalMs})` });
  }
  const t = cfg.timeouts;
  if (t.perTryMs !== undefined && t.perTryMs > t.requestMs) {
    problems.push({ path: 'timeouts.perTryMs', message: `must be <= requestMs (${t.requestMs})` });
  }
  if (cfg.retry && cfg.retry.backoffMaxMs < cfg.retry.backoffBaseMs) {
    problems.push({ path: 'retry.backoffMaxMs', message: `must be >= backoffBaseMs (${cfg.retry.backoffBaseMs})` });
  }
  return problems;
}

/**
 * Turns zod issues into lines that name the JSON path, the value found and what is
 * allowed, e.g. `balancer.policy: got "p3c"; allowed: "round-robin", "p2c", …`.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): string[] {
  const pathOf = (p: readonly PropertyKey[]): string => (p.length ? p.map(String).join('.') : '(root)');
  // A typo is one problem, not two: "arival" is unknown *and* "arrival" is missing. The
  // missing field is folded into the unknown one's line as a suggestion.
  const unknownAt = new Map<string, string[]>();
  for (const issue of issues) if (issue.code === 'unrecognized_keys') unknownAt.set(pathOf(issue.path), issue.keys);
  const suggestions = new Map<string, string>();
  const folded = new Set<z.core.$ZodIssue>();
  for (const issue of issues) {
    if (issue.path.length === 0 || valueAt(input, issue.path) !== undefined) continue;
    const parent = pathOf(issue.path.slice(0, -1));
    const missing = String(issue.path[issue.path.length - 1]);
    const typo = (unknownAt.get(parent) ?? []).find((k) => closestName(k, [missing]) === missing);
    if (typo) { suggestions.set(`${parent}/${typo}`, missing); folded.add(issue); }
  }
  return issues.filter((issue) => !folded.has(issue)).map((issue) => {
    const path = pathOf(issue.path);
    const value = valueAt(input, issue.path);
    const got = value === undefined ? 'missing' : `got ${JSON.stringify(value)}`;
    let allowed = issue.message;
    const discriminator = /^Invalid discriminator value\. Expected (.*)$/.exec(issue.message);
    if (discriminator) {
      // zod words a tagged union's tag like this; say it the way every other enum is said.
      const values = discriminator[1].split(' | ').map((v) => v.replace(/^'|'$/g, ''));
      allowed = `allowed: ${values.map((v) => JSON.stringify(v)).join(', ')}${didYouMean(value, values)}`;
    } else if (issue.code === 'invalid_value' && 'values' in issue) {
      const values = issue.values as unknown[];
      allowed = `allowed: ${values.map((v) => JSON.stringify(v)).join(', ')}${didYouMean(value, values.filter((v): v is string => typeof v === 'string'))}`;
    } else if (issue.code === 'unrecognized_keys' && issue.message.startsWith('Unrecognized key')) {
      const hints = issue.keys.map((k) => suggestions.get(`${path}/${k}`)).filter((h) => h !== undefined);
      return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        + (hints.length ? `; did you mean ${hints.map((h) => JSON.stringify(h)).join(', ')}?` : '');
    }
    if (issue.code === 'unrecognized_keys') return `${path}: ${allowed}`;
    return `${path}: ${got}; ${allowed}`;
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
