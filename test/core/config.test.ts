// The shared routing sections: defaults, and errors that name the path, the value and what is allowed.
import { describe, expect, it } from 'vitest';
import { BalancerSchema, POLICIES, RoutingSchema, describeIssues, routingProblems } from '../../core/index.ts';

function errors(input: unknown): string[] {
  const r = RoutingSchema.safeParse(input);
  if (r.success) return routingProblems(r.data).map((p) => `${p.path}: ${p.message}`);
  return describeIssues(r.error.issues, input);
}

describe('routing config', () => {
  it('fills defaults from the field (Envoy/HAProxy)', () => {
    const cfg = RoutingSchema.parse({ retry: {}, health: { outlier: {} } });
    expect(cfg.balancer).toEqual({ policy: 'round-robin', panicThresholdPercent: 50 });
    expect(BalancerSchema.parse({ policy: 'p2c' })).toEqual({ policy: 'p2c', choices: 2, panicThresholdPercent: 50 });
    expect(BalancerSchema.parse({ policy: 'maglev' })).toMatchObject({ maglevTableSize: 65_537 });
    expect(BalancerSchema.parse({ policy: 'bounded-load' })).toMatchObject({ balanceFactor: 1.25, vnodes: 160 });
    expect(cfg.retry).toMatchObject({ maxAttempts: 3, retryOn: [502, 503, 504], backoffBaseMs: 25, backoffMaxMs: 250 });
    expect(cfg.health!.outlier).toMatchObject({ consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000 });
    expect(cfg.timeouts).toMatchObject({ requestMs: 30_000, connectMs: 1_000 });
  });

  it('an unknown policy names the path, the value and every allowed name', () => {
    const [msg] = errors({ balancer: { policy: 'p3c' } });
    expect(msg).toMatch(/^balancer\.policy: got "p3c"; allowed: "round-robin", "weighted-round-robin", .*"bounded-load", .*"haproxy-source", .*"caddy-ip-hash".*; did you mean "p2c"\?$/);
    expect(errors({ balancer: { policy: 'consistent-hashing' } })[0]).not.toContain('did you mean'); // nothing close: no guess
  });

  it('an option that belongs to another policy is an error naming the chosen policy', () => {
    expect(errors({ balancer: { policy: 'round-robin', vnodes: 7, maglevTableSize: 251 } })).toEqual([
      'balancer: "vnodes", "maglevTableSize" are not options of round-robin (its options: panicThresholdPercent)',
    ]);
    // Every policy refuses every option it does not own, and accepts its own.
    const allOptions = new Set(POLICIES.flatMap((p) => Object.keys(p.options)));
    for (const policy of POLICIES) {
      expect(errors({ balancer: { policy: policy.name } })).toEqual([]);
      for (const option of allOptions) {
        if (option in policy.options) continue;
        const [msg] = errors({ balancer: { policy: policy.name, [option]: 2 } });
        expect(msg).toMatch(new RegExp(`^balancer: "${option}" is not an option of ${policy.name} \\(its options: `));
      }
    }
  });

  it('names unknown fields, bad numbers and non-prime Maglev tables', () => {
    expect(errors({ balancer: { polcy: 'p2c' } })).toEqual(['balancer: "polcy" is not an option of round-robin (its options: panicThresholdPercent)']);
    expect(errors({ retry: { maxAttempts: 0 } })[0]).toMatch(/^retry\.maxAttempts: got 0; /);
    expect(errors({ retry: { maxAttemps: 2 } })).toEqual(['retry: unknown field "maxAttemps"']);
    expect(errors({ balancer: { policy: 'maglev', maglevTableSize: 65_536 } })[0]).toMatch(/^balancer\.maglevTableSize: got 65536; must be a prime number/);
  });

  it('reports cross-field problems with their paths', () => {
    expect(errors({ timeouts: { requestMs: 100, perTryMs: 500 } })).toEqual(['timeouts.perTryMs: must be <= requestMs (100)']);
    expect(errors({ health: { active: { intervalMs: 100, timeoutMs: 200 } } })).toEqual(['health.active.timeoutMs: must be <= intervalMs (100)']);
    expect(errors({ balancer: { policy: 'maglev', slowStart: { windowMs: 1000 } } })[0])
      .toMatch(/^balancer: "slowStart" is not an option of maglev \(its options: .*; slowStart needs a policy that reads live weights: weighted-round-robin, /);
    expect(errors({ balancer: { policy: 'p2c', slowStart: { windowMs: 1000 } } })).toEqual([]);
  });
});
