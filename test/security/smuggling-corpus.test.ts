// The generated smuggling corpus (smuggling-corpus.ts) against the live proxy, with a raw
// backend that records the exact bytes it gets. Per case, one of:
// - refused: the client gets only proxy errors (or a close) and the backend sees nothing;
// - forwarded unambiguously: every request the backend got for the case carries at most one
//   framing header, and the client got one backend answer per forwarded request (a request
//   the backend saw but the client was never answered is a hidden, smuggled one).
// After all cases: no bytes were left unparsed on any backend connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import { proxy } from '../live/helpers.ts';
import { exchange, held, printHeldRows } from './helpers.ts';
import { type CapturedRequest, type RawBackend, rawBackend } from './raw-backend.ts';
import { type CorpusCase, generateCorpus } from './smuggling-corpus.ts';

const CONCURRENCY = 24;
const corpus = generateCorpus();

let backend: RawBackend;
let p: RunningProxy;
beforeAll(async () => {
  backend = await rawBackend();
  p = await proxy({ backends: [{ id: 'raw', url: backend.url }], admin: false });
});
afterAll(async () => {
  await backend.close();
  printHeldRows();
});

/** The case a backend request belongs to: /c<id>_ or /s<id>_ anywhere in its target. */
function caseOf(r: CapturedRequest): number | undefined {
  const m = /\/[cs](\d+)_/.exec(r.target ?? '');
  return m ? Number(m[1]) : undefined;
}

interface Verdict { id: number; cls: string; kind: 'refused' | 'forwarded'; problem?: string }

function judge(c: CorpusCase, statuses: number[], codes: string[], closed: boolean, got: CapturedRequest[]): Verdict {
  const fail = (problem: string): Verdict => ({ id: c.id, cls: c.cls, kind: 'refused', problem: `${c.cls} ${c.what}: ${problem}` });
  if (!closed && !(c.incomplete && got.length === 0 && statuses.length === 0)) return fail('connection left open (the proxy waits for bytes it should not expect)');
  const answered = statuses.filter((s) => s === 200).length; // the backend answers every request 200 `ok`
  if (got.length === 0) {
    if (answered > 0) return fail(`200 without a forwarded request: ${statuses}`);
    if (statuses.some((s) => s < 400)) return fail(`refused with ${statuses}`);
    if (!closed) return { id: c.id, cls: c.cls, kind: 'refused' }; // still waiting for the declared body: nothing forwarded
    if (codes.length < statuses.length) return fail(`a refusal without x-fulcrum-error: ${statuses} ${codes}`);
    return { id: c.id, cls: c.cls, kind: 'refused' };
  }
  if (answered !== got.length) return fail(`backend got ${got.map((r) => r.target)} but the client had ${answered} answers (${statuses})`);
  for (const r of got) {
    const framing = r.headers.filter(([n]) => /^(content-length|transfer-encoding)$/i.test(n));
    if (framing.length > 1) return fail(`forwarded with ${framing.length} framing headers`);
  }
  return { id: c.id, cls: c.cls, kind: 'forwarded' };
}

describe('smuggling corpus', () => {
  it(`${corpus.length} generated payloads: each refused, or forwarded unambiguously with every forwarded request answered`, async () => {
    const port = Number(new URL(p.url).port);
    const byCase = new Map<number, CapturedRequest[]>();
    const verdicts: Verdict[] = [];
    let next = 0;
    const worker = async () => {
      while (next < corpus.length) {
        const c = corpus[next++];
        const ex = await exchange(port, c.payload, { timeoutMs: 3_000 });
        const got = backend.requests.filter((r) => caseOf(r) === c.id);
        byCase.set(c.id, got);
        verdicts.push(judge(c, ex.statuses, ex.codes, ex.closedByServer, got));
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - t0) / 1000;

    const problems = verdicts.filter((v) => v.problem).map((v) => v.problem);
    expect(problems.slice(0, 20), `${problems.length} problems`).toEqual([]);
    // Every backend request belongs to a case, and to one judged after it arrived (none arrived late).
    const late = backend.requests.filter((r) => { const id = caseOf(r); return id === undefined || !byCase.get(id)!.includes(r); });
    expect(late.map((r) => r.line)).toEqual([]);
    expect(backend.leftovers.map((b) => b.toString('latin1'))).toEqual([]);

    const classes = [...new Set(corpus.map((c) => c.cls))];
    const rows = classes.map((cls) => {
      const vs = verdicts.filter((v) => v.cls === cls);
      return { cls, total: vs.length, refused: vs.filter((v) => v.kind === 'refused').length };
    });
    for (const r of rows) held(`corpus: ${r.cls}`, r.total, `${r.refused} refused, ${r.total - r.refused} forwarded unambiguously; none hidden`);
    process.stdout.write(`smuggling corpus: ${corpus.length} cases in ${classes.length} classes, ${seconds.toFixed(1)} s\n`
      + rows.map((r) => `  ${r.cls}: ${r.total} (${r.refused} refused)`).join('\n') + '\n');
  }, 120_000);
});
