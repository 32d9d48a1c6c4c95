// The proxy's routing config: core's RoutingSchema, validated exactly as the simulator
// validates it, so both engines accept and reject the same files.
import { readFileSync } from 'node:fs';
import { type RoutingConfig, RoutingSchema, describeIssues, routingProblems } from '../../core/index.ts';

/**
 * What the proxy runs with when no config is given: retries with a budget, outlier
 * ejection and active checks on `/heartbeat`. A config file replaces this whole object;
 * a section it leaves out is off.
 */
export const DEFAULT_ROUTING_INPUT = {
  retry: { budget: {} },
  health: { active: { intervalMs: 2_000, timeoutMs: 1_000 }, outlier: {} },
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
