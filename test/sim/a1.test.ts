// The original A-1: 10,000 requests, 3 servers, round robin — a third each, to the request.
import { describe, expect, it } from 'vitest';
import { loadExperiment } from '../../experiments/schema.ts';
import { simulate } from './helpers.ts';

describe('experiments/a1.json (the original A-1)', () => {
  it('round robin over 3 servers splits 10,000 requests 3334/3333/3333', async () => {
    const plan = await loadExperiment('experiments/a1.json');
    expect(plan.runs).toHaveLength(1);
    const { recorder, sim } = simulate(plan.runs[0].config);
    expect(recorder.requests).toHaveLength(10_000);
    expect(Object.fromEntries([...recorder.attempts].map(([id, a]) => [id, a.started]))).toEqual({ s1: 3334, s2: 3333, s3: 3333 });
    expect(recorder.requests.every((r) => r.outcome === 'ok' && r.status === 200)).toBe(true);
    expect(sim.router.counts).toMatchObject({ requests: 10_000, attempts: 10_000, retries: 0 });
  });
});
