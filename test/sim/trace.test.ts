// --trace: every request's decisions, as the core's Decision records, one JSON line each.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { TRACE_FILE, runPlan } from '../../sim/run.ts';

const plan = parseExperiment(readFileSync('test/sim/fixtures/crash-restart.json', 'utf8'), 'crash-restart.json');
const retries = {
  ...plan, variants: plan.variants?.filter((v) => v.name === 'retries'), runs: plan.runs.filter((r) => r.variant?.name === 'retries'),
};
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('decision traces', () => {
  it('explain every request, are byte-identical on a rerun, and change no result', async () => {
    const [a, b, plain] = [mkdtempSync(join(tmpdir(), 'trace-')), mkdtempSync(join(tmpdir(), 'trace-')), mkdtempSync(join(tmpdir(), 'trace-'))];
    await runPlan(retries, { outDir: a, writeRequests: true, writeTrace: true });
    await runPlan(retries, { outDir: b, writeRequests: true, writeTrace: true });
    await runPlan(retries, { outDir: plain, writeRequests: true });
    const file = (dir: string, name: string) => join(dir, 'retries', name);
    expect(sha(file(a, TRACE_FILE))).toBe(sha(file(b, TRACE_FILE)));
    expect(sha(file(a, 'requests.csv'))).toBe(sha(file(plain, 'requests.csv')));

    const lines = readFileSync(file(a, TRACE_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4000);
    const retried = lines.filter((l) => l.decisions.some((d: { kind: string }) => d.kind === 'retry'));
    expect(retried.length).toBeGreaterThan(0);
    for (const l of retried) {
      const picks = l.decisions.filter((d: { kind: string }) => d.kind === 'pick');
      // The retry's pick left out the backend that failed, and says why (tried, or ejected by then).
      expect(picks[1].trace.chosen).not.toBe(picks[0].trace.chosen);
      const skipped = picks[1].trace.skipped.find((s: { id: string }) => s.id === picks[0].trace.chosen);
      expect(['excluded', 'ejected', 'unhealthy']).toContain(skipped.reason);
    }
  });
});
