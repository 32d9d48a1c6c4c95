// The attempt log's own promises (live/proxy/attempt-log.ts): lines are valid JSON however
// odd the request id, nothing is written until the timer or close, the queue is bounded —
// lines past the bound are counted in a last `dropped` line, never kept — and a members line
// is written only when something changed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AttemptLog, type AttemptLogLine } from '../../live/proxy/attempt-log.ts';
import type { BackendStatus } from '../../core/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'fulcrum-attempt-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AttemptLogLine);
const status = (id: string, routable: boolean) => ({ id, routable }) as BackendStatus;

describe('the attempt log file', () => {
  it('writes each request as one JSON line, epoch times to the µs, odd ids escaped', async () => {
    const file = join(dir, 'requests.jsonl');
    const log = await AttemptLog.open(file);
    const t = performance.now();
    log.request('a "quoted"\\id', 200, undefined, [{ server: 's2', startedMs: t, endedMs: t + 1.5, ok: false }, { server: 's1', startedMs: t + 2, endedMs: t + 3, ok: true }]);
    log.request('', 503, 'no_backend', []);
    await log.close();
    const [first, second] = lines(file);
    expect(first).toMatchObject({ kind: 'request', id: 'a "quoted"\\id', status: 200, attempts: [{ server: 's2', ok: false }, { server: 's1', ok: true }] });
    const a = (first as Extract<AttemptLogLine, { kind: 'request' }>).attempts[0];
    expect(a.startMs).toBeCloseTo(performance.timeOrigin + t, 2);
    expect(a.endMs - a.startMs).toBeCloseTo(1.5, 2);
    expect(second).toEqual({ kind: 'request', id: '', status: 503, error: 'no_backend', attempts: [] });
  });

  it('past its bound the queue keeps nothing more and the file ends with how many lines were lost', async () => {
    const file = join(dir, 'bounded.jsonl');
    const log = await AttemptLog.open(file, 1_000);
    for (let i = 0; i < 100; i++) log.request(String(i), 200, undefined, []); // synchronously: no write can start in between
    await log.close();
    const all = lines(file);
    const kept = all.filter((l) => l.kind === 'request');
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(100);
    expect(all.at(-1)).toEqual({ kind: 'dropped', lines: 100 - kept.length });
  });

  it('a members line only when membership or routability changed', async () => {
    const file = join(dir, 'members.jsonl');
    const log = await AttemptLog.open(file);
    log.members(1, [status('s1', true)]);
    log.members(2, [status('s1', true)]); // the same: nothing
    log.members(3, [status('s1', false)]);
    log.members(4, [status('s1', false), status('s2', true)]);
    await log.close();
    expect(lines(file).map((l) => (l.kind === 'members' ? l.atMs : -1))).toEqual([1, 3, 4]);
  });
});
