// The proxy's routing config: core's RoutingSchema, validated exactly as the simulator
// validates it, so both engines accept and reject the same files.
import { readFileSync } from 'node:fs';
import { type RoutingConfig, RoutingSchema, describeIssues, routingProblems } from '../../core/index.ts';

/**
 * What the proxy runs with when no config is given: retries with a budget, outlier
 * ejection and active checks on `/heartbeat`. A config file replaces this whole object;
 * a section it leaves out is off (timeouts keep the schema's defaults: 30 s, connect 1 s).
 * The timeouts are chosen so no client waits the whole deadline for one stuck backend
 * (issue 14, finding 7): an attempt gets at most 10 s to answer (then a GET is retried
 * elsewhere, a POST gets 504 `upstream_timeout`), a connect at most 1 s, and a probe every
 * second with a 1 s timeout marks a stopped (SIGSTOP) replica down after `fall` = 3 misses.
 * Panic mode is off: Envoy's 50 % suits large pools, but in a pool of three with two down it
 * sends two thirds of the requests to replicas known to be down (NGINX and HAProxy have none).
 */
export const DEFAULT_ROUTING_INPUT = {
  balancer: { panicThresholdPercent: 0 },
  retry: { budget: {} },
  health: { active: { intervalMs: 1_000, timeoutMs: 1_000 }, outlier: {} },
  timeouts: { requestMs: 30_000, perTryMs: 10_000, connectMs: 1_000 },
} as const;

export type ConfigResult = { ok: true; config: RoutingConfig } | { ok: false; problems: string[] };

/** Validates routing input; `policy` (the --policy flag) overrides `balancer.policy`. */
export function parseRoutingConfig(input: unknown, policy?: string): ConfigResult {
  let candidate = input ?? DEFAULT_ROUTING_INPUT;
  if (policy !== undefined) {
    if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
      return { ok: false, problems: ['(root): must be a JSON object'] };
    }
    const c = candidate as Record<string, unknown>;
    const balancer = typeof c.balancer === 'object' && c.balancer !== null ? c.balancer : {};
    candidate = { ...c, balancer: { ...balancer, policy } };
  }
  const parsed = RoutingSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error.issues, candidate) };
  const problems = routingProblems(parsed.data).map((p) => `${p.path}: ${p.message}`);
  return problems.length ? { ok: false, problems } : { ok: true, config: parsed.data };
}

/** Reads and validates a config file; JSON syntax errors name the line and column. */
export function loadRoutingConfig(file: string, policy?: string): ConfigResult {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (err) {
    return { ok: false, problems: [`${file}: ${(err as Error).message}`] };
  }
  let input: unknown;
  try { input = JSON.parse(text); } catch (err) {
    return { ok: false, problems: [`${file}: ${jsonErrorWithPosition(text, err as Error)}`] };
  }
  const result = parseRoutingConfig(input, policy);
  return result.ok ? result : { ok: false, problems: result.problems.map((p) => `${file}: ${p}`) };
}

function jsonErrorWithPosition(text: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return `invalid JSON: ${err.message}`;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `invalid JSON at line ${line}, column ${column}: ${err.message}`;
}
