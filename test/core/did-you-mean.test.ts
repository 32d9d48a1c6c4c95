// Mistyped names get the likely intended one, and a typo is one problem on one line.
import { describe, expect, it } from 'vitest';
import { closestName } from '../../core/did-you-mean.ts';
import { ExperimentError, parseExperiment } from '../../experiments/schema.ts';

const BASE = {
  name: 'x',
  servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 1 } } },
  workload: { requests: 10, arrival: { process: 'poisson', ratePerSec: 10 } },
};

function problems(file: unknown): string[] {
  try {
    parseExperiment(file, 'x.json');
  } catch (e) {
    if (e instanceof ExperimentError) return e.problems;
    throw e;
  }
  return [];
}

describe('did you mean', () => {
  it('offers the closest name only when it is close', () => {
    expect(closestName('p3c', ['round-robin', 'p2c', 'maglev'])).toBe('p2c');
    expect(closestName('ringhash', ['ring-hash', 'maglev'])).toBe('ring-hash');
    expect(closestName('banana', ['round-robin', 'p2c'])).toBeNull();
    expect(closestName('p2c', ['p2c'])).toBeNull(); // nothing to correct
  });

  it('an unknown policy names the allowed ones and the likely one', () => {
    expect(problems({ ...BASE, balancer: { policy: 'p3c' } })).toEqual([
      expect.stringMatching(/^balancer\.policy: got "p3c"; allowed: "round-robin", .*; did you mean "p2c"\?$/),
    ]);
  });

  it('a tagged union\'s tag reads like any other enum, with a suggestion', () => {
    expect(problems({ ...BASE, workload: { ...BASE.workload, arrival: { process: 'poison', ratePerSec: 10 } } }))
      .toEqual(['workload.arrival.process: got "poison"; allowed: "poisson", "constant", "closed"; did you mean "poisson"?']);
  });

  it('a misspelt required field is one line: unknown field, did you mean', () => {
    const { arrival, ...workload } = BASE.workload;
    expect(problems({ ...BASE, workload: { ...workload, arival: arrival } })).toEqual(['workload: unknown field "arival"; did you mean "arrival"?']);
  });

  it('an experiment answer names a known metric', () => {
    expect(problems({ ...BASE, answer: { metric: 'faild' } })).toEqual([expect.stringMatching(/^answer\.metric: got "faild"; allowed: .*; did you mean "failed"\?$/)]);
    expect(problems({ ...BASE, answer: { metric: 'failed', charts: ['servers'] } })).toEqual([]);
  });
});
