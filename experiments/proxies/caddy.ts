// The experiment on Caddy 2.6: the optional `proxies.caddy` block (settings in Caddy's own
// vocabulary, the reverse_proxy directive's subdirectives) and the translation of the
// generic sections into CaddySettings. As for HAProxy (haproxy.ts): a generic setting Caddy
// cannot express is a problem (one line naming its JSON path and the way out) only when it
// differs from its schema default; at the default it stands for Caddy's own behaviour. A
// field of the block wins over the translated one and silences the problems it replaces.
import { z } from 'zod';
import { RetrySchema } from '../../core/config.ts';
import type { RunConfig } from '../schema.ts';
import type { CaddySelection, CaddySettings } from './caddy-settings.ts';

/** `lb_policy` values of Caddy 2.6.2 this lab models (selectionpolicies.go). */
export const CADDY_POLICIES = ['round_robin', 'least_conn', 'first', 'random', 'ip_hash', 'random_choose <n>'] as const;
/** Caddy's defaults (reverseproxy.go Provision, httptransport.go). */
const DEFAULT_TRY_INTERVAL_MS = 250;
const DEFAULT_DIAL_MS = 3_000;
const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;
const TIMEOUT_MAX_MS = 1e9;
const ms = z.number().int().positive().max(TIMEOUT_MAX_MS);
const msOrZero = z.number().int().min(0).max(TIMEOUT_MAX_MS);

const LbPolicySchema = z.string().superRefine((s, ctx) => {
  if (parseLbPolicy(s) !== undefined) return;
  const why = s.trim() === 'client_ip_hash'
    ? 'Caddy 2.6.2 has no client_ip_hash (added in 2.7); use "ip_hash" (the connection\'s address, the same here)'
    : s.trim().startsWith('weighted_round_robin') ? 'Caddy 2.6.2 has no weighted_round_robin (added in 2.8); use "round_robin"'
      : `allowed: ${CADDY_POLICIES.map((p) => JSON.stringify(p)).join(', ')} (n from 2 to 100)`;
  ctx.addIssue({ code: 'custom', message: why });
});

/** The `proxies.caddy` block: Caddy's own settings, each one optional. */
export const CaddyBlockSchema = z.strictObject({
  /** `lb_policy`: round_robin, least_conn, first, random, ip_hash, `random_choose <n>`. */
  lbPolicy: LbPolicySchema.optional(),
  /** `lb_retries`; replaces the generic `retry` section. */
  lbRetries: z.number().int().min(0).max(100).optional(),
  /** `lb_try_duration` (0: off) and `lb_try_interval` (default 250 ms with a try duration, else 0). */
  lbTryDurationMs: msOrZero.optional(),
  lbTryIntervalMs: msOrZero.optional(),
  /** Passive health: `fail_duration` (0: off), `max_fails` (default 1), `unhealthy_status`. */
  failDurationMs: msOrZero.optional(),
  maxFails: z.number().int().min(1).max(1_000).optional(),
  unhealthyStatus: z.array(z.number().int().refine((s) => (s >= 1 && s <= 5) || (s >= 100 && s <= 599), { message: 'a status 100-599 or a class 1-5' })).max(50).optional(),
  /** Active health: `health_uri`, `health_interval`, `health_timeout` (default 5 s); false: none. */
  health: z.union([z.literal(false), z.strictObject({
    uri: z.string().startsWith('/').default('/heartbeat'),
    intervalMs: ms.default(30_000),
    timeoutMs: ms.default(DEFAULT_HEALTH_TIMEOUT_MS),
  })]).optional(),
  /** The transport's `dial_timeout` and `response_header_timeout`. */
  dialTimeoutMs: ms.optional(),
  responseHeaderTimeoutMs: ms.optional(),
});
export type CaddyBlock = z.infer<typeof CaddyBlockSchema>;

/** `random_choose 3` → { policy: 'random_choose', choose: 3 }; undefined for anything Caddy 2.6.2 lacks. */
export function parseLbPolicy(text: string): CaddySelection | undefined {
  const t = text.trim().replace(/\s+/g, ' ');
  const choose = /^random_choose(?: (\d{1,3}))?$/.exec(t);
  if (choose) {
    const n = choose[1] === undefined ? 2 : Number(choose[1]); // Provision: 0 → 2
    return n >= 2 && n <= 100 ? { policy: 'random_choose', choose: n } : undefined;
  }
  if (t === 'round_robin' || t === 'least_conn' || t === 'first' || t === 'random' || t === 'ip_hash') return { policy: t };
  return undefined;
}

export type CaddyTranslation = { settings: CaddySettings; problems?: undefined } | { settings?: undefined; problems: string[] };

/** What `cfg` means on Caddy 2.6, or every setting Caddy cannot express (one line each). */
export function caddySettings(cfg: RunConfig): CaddyTranslation {
  const block = cfg.proxies?.caddy ?? {};
  const problems: string[] = weightProblems(cfg);
  const selection = translateSelection(cfg, block, problems);
  const retry = translateRetry(cfg, block, problems);
  const timeouts = translateTimeouts(cfg, block, problems);
  const passive = translatePassive(cfg, block, problems);
  const active = translateActive(cfg, block, problems);
  if (problems.length) return { problems };
  const settings: CaddySettings = { selection, ...retry, timeouts };
  if (passive) settings.passive = passive;
  if (active) settings.active = active;
  return { settings };
}

/** One line: the path, what was asked, why Caddy cannot do it, and what to do instead. */
function problem(path: string, value: unknown, why: string): string {
  return `${path}: ${JSON.stringify(value)} ${why}`;
}

/** Caddy 2.6.2 upstreams have no weight (hosts.go Upstream): only 1 stands for Caddy. */
function weightProblems(cfg: RunConfig): string[] {
  const why = 'has no Caddy 2.6 equivalent: its upstreams have no weight (weighted_round_robin came in 2.8); drop the weight';
  const weights: Array<[string, number | undefined]> = [
    ['servers.template.weight', cfg.servers.template.weight],
    ...Object.entries(cfg.servers.overrides).map(([id, o]): [string, number | undefined] => [`servers.overrides.${id}.weight`, o.weight]),
    ...cfg.changes.map((c, i): [string, number | undefined] => [`changes.${i}.weight`, c.kind === 'remove' ? undefined : c.weight]),
  ];
  return weights.filter(([, w]) => w !== undefined && w !== 1).map(([path, w]) => problem(path, w, why));
}

const PANIC_DEFAULT_PERCENT = 50;

function translateSelection(cfg: RunConfig, block: CaddyBlock, problems: string[]): CaddySelection {
  const b = cfg.balancer;
  if (b.panicThresholdPercent !== 0 && b.panicThresholdPercent !== PANIC_DEFAULT_PERCENT) {
    problems.push(problem('balancer.panicThresholdPercent', b.panicThresholdPercent, 'has no Caddy equivalent: Caddy never sends to an unavailable upstream (use 0 or the default 50)'));
  }
  if (b.slowStart) problems.push(problem('balancer.slowStart', b.slowStart, 'has no Caddy 2.6 equivalent (no slow start); drop it'));
  if (block.lbPolicy !== undefined) return parseLbPolicy(block.lbPolicy)!;
  const nearest = (name: string, to: string): string => problem('balancer.policy', name, `has no Caddy 2.6 equivalent; nearest: ${to} (set proxies.caddy.lbPolicy)`);
  switch (b.policy) {
    case 'round-robin': case 'caddy-round-robin': return { policy: 'round_robin' };
    case 'random': case 'caddy-random': return { policy: 'random' };
    case 'least-connections': case 'caddy-least-conn': return { policy: 'least_conn' };
    case 'caddy-first': return { policy: 'first' };
    case 'p2c': return { policy: 'random_choose', choose: Math.max(2, b.choices) };
    case 'caddy-random-choose': return { policy: 'random_choose', choose: b.choose };
    // Caddy's ip_hash is rendezvous hashing over the client IP (selectionpolicies.go hostByHashing).
    case 'ip-hash': case 'rendezvous': case 'caddy-ip-hash': return { policy: 'ip_hash' };
    case 'weighted-round-robin': problems.push(nearest(b.policy, 'round_robin (no weights in 2.6)')); return { policy: 'round_robin' };
    case 'peak-ewma': problems.push(nearest(b.policy, 'least_conn')); return { policy: 'least_conn' };
    case 'ring-hash': case 'maglev': case 'bounded-load': problems.push(nearest(b.policy, 'ip_hash (rendezvous)')); return { policy: 'ip_hash' };
    default: problems.push(nearest(b.policy, 'round_robin')); return { policy: 'round_robin' }; // another proxy's model
  }
}

/** The generic retry section's defaults: a field left at its default stands for the proxy's own behaviour. */
const RETRY_DEFAULTS = RetrySchema.parse({});

type RetrySettings = Pick<CaddySettings, 'retries' | 'tryDurationMs' | 'tryIntervalMs'>;

function translateRetry(cfg: RunConfig, block: CaddyBlock, problems: string[]): RetrySettings {
  const generic = cfg.retry;
  const own = block.lbRetries !== undefined || block.lbTryDurationMs !== undefined;
  if (generic && !own) {
    const hint = 'set proxies.caddy.lbRetries / lbTryDurationMs to use Caddy\'s own retries';
    const same = (a: readonly unknown[], b: readonly unknown[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
    if (generic.budget !== undefined) problems.push(problem('retry.budget', generic.budget, `has no Caddy equivalent (no retry budget); ${hint}`));
    if (!same(generic.retryOn, RETRY_DEFAULTS.retryOn)) problems.push(problem('retry.retryOn', generic.retryOn, `has no Caddy equivalent: Caddy passes every answer on and retries only errors; ${hint}`));
    if (!same(generic.idempotentMethods, RETRY_DEFAULTS.idempotentMethods)) problems.push(problem('retry.idempotentMethods', generic.idempotentMethods, `has no Caddy equivalent: after a connection was made Caddy retries GET only (no retry_match); ${hint}`));
    if (generic.backoffBaseMs !== RETRY_DEFAULTS.backoffBaseMs || generic.backoffMaxMs !== RETRY_DEFAULTS.backoffMaxMs) {
      problems.push(problem('retry.backoffBaseMs', [generic.backoffBaseMs, generic.backoffMaxMs], `has no Caddy equivalent: Caddy waits lb_try_interval between tries (no backoff); ${hint}`));
    }
    if (generic.retryAfterMaxMs !== RETRY_DEFAULTS.retryAfterMaxMs) problems.push(problem('retry.retryAfterMaxMs', generic.retryAfterMaxMs, `has no Caddy equivalent: Caddy ignores Retry-After; ${hint}`));
    if (generic.maxReplayBodyBytes !== RETRY_DEFAULTS.maxReplayBodyBytes) problems.push(problem('retry.maxReplayBodyBytes', generic.maxReplayBodyBytes, `has no Caddy equivalent; ${hint}`));
  }
  const retries = block.lbRetries ?? (generic && !own ? generic.maxAttempts - 1 : 0);
  const tryDurationMs = block.lbTryDurationMs ?? 0;
  // Provision: with a try duration an interval of 0 (or none) becomes 250 ms; lb_retries alone does not wait.
  const interval = block.lbTryIntervalMs ?? 0;
  const tryIntervalMs = tryDurationMs > 0 && interval === 0 ? DEFAULT_TRY_INTERVAL_MS : interval;
  return { retries, tryDurationMs, tryIntervalMs };
}

const REQUEST_DEFAULT_MS = 30_000;
const CONNECT_DEFAULT_MS = 1_000;

function translateTimeouts(cfg: RunConfig, block: CaddyBlock, problems: string[]): CaddySettings['timeouts'] {
  const t = cfg.timeouts;
  // response_header_timeout limits each try; without perTryMs the request deadline is the nearest.
  if (block.responseHeaderTimeoutMs === undefined && t.perTryMs !== undefined && t.requestMs !== REQUEST_DEFAULT_MS) {
    problems.push(problem('timeouts.requestMs', t.requestMs, 'has no Caddy equivalent: reverse_proxy has no deadline over all tries (response_header_timeout limits each); set proxies.caddy.responseHeaderTimeoutMs'));
  }
  // timeouts.connectMs at its default stands for Caddy's own dial_timeout (3 s).
  const dialMs = block.dialTimeoutMs ?? (t.connectMs === CONNECT_DEFAULT_MS ? DEFAULT_DIAL_MS : t.connectMs);
  const responseHeaderMs = block.responseHeaderTimeoutMs ?? t.perTryMs ?? (t.requestMs !== REQUEST_DEFAULT_MS ? t.requestMs : undefined);
  return responseHeaderMs === undefined ? { dialMs } : { dialMs, responseHeaderMs };
}

const OUTLIER_DEFAULTS = { maxEjectionMs: 300_000, jitterMs: 0, maxEjectionPercent: 50 } as const;

function translatePassive(cfg: RunConfig, block: CaddyBlock, problems: string[]): CaddySettings['passive'] {
  if (block.failDurationMs !== undefined) {
    if (block.failDurationMs === 0) return undefined;
    return { failDurationMs: block.failDurationMs, maxFails: block.maxFails ?? 1, unhealthyStatus: [...(block.unhealthyStatus ?? [])] };
  }
  const o = cfg.health?.outlier;
  if (!o) {
    if (block.maxFails !== undefined || block.unhealthyStatus !== undefined) {
      problems.push(problem('proxies.caddy.maxFails', block.maxFails ?? block.unhealthyStatus, 'needs fail_duration: set proxies.caddy.failDurationMs (without it Caddy counts no failure)'));
    }
    return undefined;
  }
  // Envoy-style ejection → Caddy: consecutive failures become max_fails failures within
  // fail_duration = the base ejection time; 502/503/504 (and 500 with count500) become unhealthy_status.
  const hint = 'Caddy counts failures for fail_duration and has no ejection growth or cap; set proxies.caddy.failDurationMs';
  for (const key of Object.keys(OUTLIER_DEFAULTS) as Array<keyof typeof OUTLIER_DEFAULTS>) {
    if (o[key] !== OUTLIER_DEFAULTS[key]) problems.push(problem(`health.outlier.${key}`, o[key], `has no Caddy equivalent: ${hint}`));
  }
  if (o.decayMs !== undefined) problems.push(problem('health.outlier.decayMs', o.decayMs, `has no Caddy equivalent: ${hint}`));
  return {
    failDurationMs: o.baseEjectionMs,
    maxFails: block.maxFails ?? o.consecutiveFailures,
    unhealthyStatus: [...(block.unhealthyStatus ?? [...(o.count500 ? [500] : []), 502, 503, 504])],
  };
}

function translateActive(cfg: RunConfig, block: CaddyBlock, problems: string[]): CaddySettings['active'] {
  if (block.health === false) return undefined;
  if (block.health !== undefined) return { ...block.health };
  const a = cfg.health?.active;
  if (!a) return undefined;
  const hint = 'one failed check marks a Caddy upstream down and one passing check brings it back; set proxies.caddy.health';
  // rise/fall at their defaults and requireFirstPass stand for Caddy's own rule (it starts upstreams healthy).
  if (a.rise !== 2 && a.rise !== 1) problems.push(problem('health.active.rise', a.rise, `has no Caddy equivalent: ${hint}`));
  if (a.fall !== 3 && a.fall !== 1) problems.push(problem('health.active.fall', a.fall, `has no Caddy equivalent: ${hint}`));
  if (a.jitterMs !== 0) problems.push(problem('health.active.jitterMs', a.jitterMs, `has no Caddy equivalent (checks run on one ticker); ${hint}`));
  return { uri: a.path, intervalMs: a.intervalMs, timeoutMs: a.timeoutMs };
}
