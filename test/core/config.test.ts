// The shared routing sections: defaults, and errors that name the path, the value and what is allowed.
import { describe, expect, it } from 'vitest';
import { RoutingSchema, describeIssues, routingProblems } from '../../core/index.ts';

function errors(input: unknown): string[] {
  const r = RoutingSchema.safeParse(input);
  if (r.success) return routingProblems(r.data).map((p) => `${p.path}: ${p.message}`);
  return describeIssues(r.error.issues, input);
}

describe('routing config', () => {
  it('fills defaults from the field (Envoy/HAProxy)', () => {
    const cfg = RoutingSchema.parse({ retry: {}, health: { outlier: {} } });
    expect(cfg.balancer).toMatchObject({ policy: 'round-robin', choices: 2, maglevTableSize: 65_537, balanceFactor: 1.25, panicThresholdPercent: 50 });
    expect(cfg.retry).toMatchObject({ maxAttempts: 3, retryOn: [502, 503, 504], backoffBaseMs: 25, backoffMaxMs: 250 });
    expect(cfg.health!.outlier).toMatchObject({ consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000 });
    expect(cfg.timeouts).toMatchObject({ requestMs: 30_000, connectMs: 1_000 });
  });

  it('an unknown policy names the path, the value and every allowed name', () => {
    const [msg] = errors({ balancer: { policy: 'p3c' } });
    expect(msg).toMatch(/^balancer\.policy: got "p3c"; allowed: "round-robin", "weighted-round-robin", .*"bounded-load"; did you mean "p2c"\?$/);
  });

  it('names unknown fields, bad numbers and non-prime Maglev tables', () => {
    expect(errors({ balancer: { polcy: 'p2c' } })).toEqual(['balancer: unknown field "polcy"']);
    expect(errors({ retry: { maxAttempts: 0 } })[0]).toMatch(/^retry\.maxAttempts: got 0; /);
    expect(errors({ balancer: { maglevTableSize: 65_536 } })[0]).toMatch(/^balancer\.maglevTableSize: got 65536; must be a prime number/);
  });

  it('reports cross-field problems with their paths', () => {
    expect(errors({ timeouts: { requestMs: 100, perTryMs: 500 } })).toEqual(['timeouts.perTryMs: must be <= requestMs (100)']);
    expect(errors({ health: { active: { intervalMs: 100, timeoutMs: 200 } } })).toEqual(['health.active.timeoutMs: must be <= intervalMs (100)']);
    expect(errors({ balancer: { policy: 'maglev', slowStart: { windowMs: 1000 } } })[0]).toMatch(/^balancer\.slowStart: has no effect with maglev/);
    expect(errors({ balancer: { policy: 'p2c', slowStart: { windowMs: 1000 } } })).toEqual([]);
  });
});
