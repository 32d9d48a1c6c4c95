// The headline a page leads with: the answer's metric for every run and engine, the best
// variant, the named charts (a wrong id is a warning with the likely one), and its fidelity.
import { describe, expect, it } from 'vitest';
import { headlineOf } from '../../reports/answer.ts';
import { loadExperimentProxies, loadExperimentResults } from '../../reports/load.ts';
import { AnswerSchema } from '../../experiments/answer.ts';
import { fixtureOptions } from './helpers.ts';

describe('the answer headline', () => {
  it('a3: failed requests per variant in both engines, the lowest named, fidelity of that metric', async () => {
    const e = await loadExperimentResults('a3', fixtureOptions);
    const warnings: string[] = [];
    const answer = AnswerSchema.parse({ question: 'How many fail?', metric: 'failed', also: ['retries'], charts: ['variants-failed', 'no-retry--failures-overtime'] });
    const h = headlineOf(e, answer, ['variants-failed', 'no-retry--failures-over-time'], warnings);
    expect(h.question).toBe('How many fail?');
    expect(h.sentence).toBe('Failed requests: no-retry 2 sim / 2 live; retry 0 sim / 0 live. Lowest: retry (both engines). '
      + 'Retries: no-retry 0 sim / 0 live; retry 2 sim / 2 live.');
    expect(h.rows).toEqual([
      { run: 'no-retry', sim: 2, live: 2, relErrorPct: 0, far: false },
      { run: 'retry', sim: 0, live: 0, relErrorPct: 0, far: false },
    ]);
    expect(h.fidelity).toBe('Fidelity of failed requests: live equals sim on every run.');
    expect(h.charts).toEqual(['variants-failed']);
    expect(warnings).toEqual(['answer.charts: no chart "no-retry--failures-overtime" in this report; did you mean "no-retry--failures-over-time"?']);
  });

  it('sim 0 and live not is shaded as far, not hidden as n/a', async () => {
    const e = await loadExperimentResults('a3', fixtureOptions);
    const live = e.runs.find((r) => r.mode === 'live' && r.key.dir === 'retry')!;
    live.summary = { ...live.summary, requests: { ...live.summary.requests, failed: 3 } };
    const h = headlineOf(e, AnswerSchema.parse({ metric: 'failed' }), [], []);
    expect(h.rows[1]).toEqual({ run: 'retry', sim: 0, live: 3, relErrorPct: null, far: true });
    expect(h.fidelity).toContain('retry: sim 0, live 3');
  });

  it('latencies read as a person says them: about three significant digits, seconds from 1 s on', async () => {
    const e = await loadExperimentResults('a3', fixtureOptions);
    const [sim, live] = (['sim', 'live'] as const).map((m) => e.runs.find((r) => r.mode === m && r.key.dir === 'no-retry')!);
    sim.summary = { ...sim.summary, latencyMs: { ...sim.summary.latencyMs, p99: 2313.216 } };
    live.summary = { ...live.summary, latencyMs: { ...live.summary.latencyMs, p99: 377.984 } };
    const retry = e.runs.filter((r) => r.key.dir === 'retry');
    for (const r of retry) r.summary = { ...r.summary, latencyMs: { ...r.summary.latencyMs, p99: r.mode === 'sim' ? 25.832 : 4.7304 } };
    const h = headlineOf(e, AnswerSchema.parse({ metric: 'latency p99' }), [], []);
    expect(h.sentence).toMatch(/^Latency p99: no-retry 2\.31 s sim \/ 378 ms live; retry 25\.8 ms sim \/ 4\.73 ms live\./);
  });
});

describe('the answer headline with several proxies', () => {
  it('names the proxy and what it has, and finds its charts under its own ids; a chart it does not draw is no warning', async () => {
    const [fulcrum, haproxy] = await loadExperimentProxies('a3', fixtureOptions);
    const answer = AnswerSchema.parse({ metric: 'failed', charts: ['variants-failed', 'no-retry--cdf'] });
    const warnings: string[] = [];
    const f = headlineOf(fulcrum, answer, ['variants-failed', 'no-retry--cdf'], warnings, true);
    expect(f.sentence).toMatch(/^On Fulcrum's proxy \(predicted\/measured\): failed requests: no-retry 2 sim \/ 2 live;/);
    expect(f.proxy).toBe('fulcrum');
    const h = headlineOf(haproxy, answer, ['haproxy--variants-failed'], warnings, true);
    expect(h.sentence).toMatch(/^On HAProxy \(predicted\/measured\): failed requests: no-retry 2 sim \/ 3 live;/);
    expect(h.charts).toEqual(['haproxy--variants-failed']);
    expect(warnings).toEqual([]);
    // With one proxy the sentence stays as it was.
    expect(headlineOf(fulcrum, answer, [], [], false).sentence).toMatch(/^Failed requests: /);
    haproxy.modes = ['sim'];
    expect(headlineOf(haproxy, answer, [], [], true).sentence).toMatch(/^On HAProxy \(predicted only\): /);
  });
});
