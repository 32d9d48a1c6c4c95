// The zero-delay rule (sim/engine/loop.ts): a step that takes 0 ms is a nested call, not an
// event, so it runs inside the event that caused it, before anything else due at that time.
import { describe, expect, it } from 'vitest';
import { configs, simulate } from './helpers.ts';

const experiment = (network: Record<string, unknown>) => ({
  name: 'zero-delay',
  seed: 7,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 } } },
  workload: { requests: 500, arrival: { process: 'closed', concurrency: 4 } },
  network,
  balancer: { policy: 'round-robin' },
});

/** Events handled besides the timeline ticks (whose count follows the run's length). */
function run(network: Record<string, unknown>) {
  const { sim, recorder } = simulate(configs(experiment(network))[0]);
  return { events: sim.eventsHandled - recorder.buckets.length, requests: recorder.requests };
}

describe('zero-delay hops', () => {
  it('a 0 ms hop adds no event: the run is the one without the hop, event for event', () => {
    const zero = { dist: 'constant', value: 0 };
    const absent = run({});
    const explicit = run({ clientToProxyMs: zero, proxyToServerMs: zero, connectMs: zero, proxyOverheadMs: zero });
    expect(explicit).toEqual(absent);
    // arrival + service-done per request; no hop, no timer is popped (each finishes long before it)
    expect(absent.events).toBe(2 * 500);
  });

  it('a hop that takes time is an event each way', () => {
    const absent = run({});
    const hop = run({ proxyToServerMs: { dist: 'constant', value: 0.001 } });
    expect(hop.events - absent.events).toBe(2 * 500); // server-arrive and attempt-reply
    expect(hop.requests.map((r) => r.servers)).toEqual(absent.requests.map((r) => r.servers));
  });
});
