// The proxy decides nothing on its own: every input it gave the core (arrivals with their
// time and hash key, attempt outcomes, probe results, admin changes) is journaled, and a
// fresh Balancer + Router built from the same config and seed — the objects the simulator
// drives — reproduce every decision trace exactly.
import { describe, expect, it } from 'vitest';
import { Balancer, type BalancerEvent, FulcrumRules, Router, STREAM, rngStream } from '../../core/index.ts';
import { replayJournal } from '../../live/proxy/journal.ts';
import { admin, proxy, replicas, send } from './helpers.ts';

describe('live decisions replay through a fresh core', () => {
  it('p2c + retries + outlier ejection + health checks under concurrent load: identical decision traces', async () => {
    const rs = await replicas(3, (i) => ({ serviceTime: { dist: 'exponential', mean: 3 + i } }));
    await rs[2].setFault({ mode: 'error', probability: 0.5, status: 503 });
    const seed = 7;
    const p = await proxy({
      seed,
      journal: true,
      backends: rs.map((r) => ({ url: r.url })),
      routing: {
        balancer: { policy: 'p2c' },
        health: {
          // fall 5: s3's heartbeats fail half the time too; with fall 3 a slow machine could mark
          // it down (no more traffic) before three requests in a row failed and ejected it.
          active: { intervalMs: 150, timeoutMs: 100, fall: 5, rise: 2, jitterMs: 20 },
          outlier: { consecutiveFailures: 3, baseEjectionMs: 300, jitterMs: 50 },
        },
        retry: { maxAttempts: 3, backoffBaseMs: 2, backoffMaxMs: 10, budget: {} },
        timeouts: { requestMs: 2_000, perTryMs: 500 },
      },
    });

    let next = 0;
    const worker = async () => {
      while (next < 240) {
        const n = next++;
        if (n === 120) await admin(p, 'PUT', '/backends/s1/weight', { weight: 3 }); // admin changes are inputs too
        await send(`${p.url}/r/${n}`, { method: n % 5 === 0 ? 'POST' : 'GET', body: n % 5 === 0 ? 'b' : undefined });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await new Promise((r) => setTimeout(r, 50)); // let the last bodies end their attempts
    await p.close();

    const journal = p.journal!;
    const events: BalancerEvent[] = [];
    const balancer = new Balancer({
      balancer: p.routing.balancer, health: p.routing.health, rng: rngStream(seed, STREAM.balancer), onEvent: (e) => events.push(e),
    });
    const rules = new FulcrumRules(p.routing.retry, balancer, rngStream(seed, STREAM.router));
    const router = new Router({ balancer, timeouts: p.routing.timeouts, rules, trace: true });
    const replayed = replayJournal(journal.entries, balancer, router);

    const live = journal.decisions();
    expect(live.size).toBe(240);
    expect(replayed).toEqual(live);
    expect(events).toEqual(journal.events);
    expect(router.counts).toEqual(p.router.counts);

    // Not a trivial run: retries, an ejection, and probes all happened. How many retries
    // depends on timing (8-23 in 8 runs alone, 4 in one CI run), so only their presence is asserted.
    const all = [...live.values()].flat();
    expect(all.filter((d) => d.kind === 'retry').length).toBeGreaterThan(0);
    expect(journal.events.some((e) => e.kind === 'ejected')).toBe(true);
    expect(journal.entries.filter((e) => e.op === 'probe').length).toBeGreaterThan(3);
    expect(journal.entries.some((e) => e.op === 'start' && e.hashKey === '127.0.0.1')).toBe(true);
  });
});
