// The join after a live run (live/runner/join-log.ts): what the client saw plus the proxy's
// own log become the Recorder calls the simulator would make — in time order, buckets
// first at their instant, in-flight counted from attempt intervals, healthy from the
// proxy's members lines, and a request the proxy never logged still a row.
import { describe, expect, it } from 'vitest';
import type { Recorder, RequestRecord, ServerSnapshot } from '../../experiments/records.ts';
import type { Completed } from '../../live/runner/loadgen.ts';
import { joinProxyLog } from '../../live/runner/join-log.ts';
import type { AccessRecord } from '../../live/runner/proxies/types.ts';

type Call =
  | { kind: 'start' | 'end'; server: string; atMs: number; ok?: boolean }
  | { kind: 'done'; atMs: number; r: RequestRecord }
  | { kind: 'bucket'; atMs: number; servers: readonly ServerSnapshot[] };

function recorder(bucketMs: number): Recorder & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    bucketMs, calls,
    attemptStarted: (server, atMs) => calls.push({ kind: 'start', server, atMs }),
    attemptEnded: (server, atMs, ok) => calls.push({ kind: 'end', server, atMs, ok }),
    requestDone: (r) => calls.push({ kind: 'done', atMs: r.endMs, r }),
    bucketEnd: (atMs, servers) => calls.push({ kind: 'bucket', atMs, servers }),
  };
}

const T0 = 1_700_000_000_000; // the run's time zero in epoch ms
const completion = (id: number, startMs: number, endMs: number, status: number): Completed => ({ id, client: 0, startMs, endMs, status });
const attempt = (server: string, startMs: number, endMs: number, ok: boolean) => ({ server, startMs: T0 + startMs, endMs: T0 + endMs, ok });

describe('joining a live run with the proxy log into the result writer', () => {
  const access: AccessRecord[] = [
    { requestId: '1', status: 200, servers: ['s1'], attempts: [attempt('s1', 5, 15, true)] },
    { requestId: '2', status: 200, servers: ['s2', 's1'], attempts: [attempt('s2', 8, 12, false), attempt('s1', 12.5, 18, true)] },
    { requestId: '3', status: 503, error: 'no_backend', servers: [] },
  ];
  const completions = [
    completion(1, 4.9, 15.2, 200), completion(2, 7.9, 18.3, 200), completion(3, 21, 21.4, 503),
    completion(4, 22, 25, 0), // the proxy never logged it (its connection was cut)
  ];
  const members = [
    { atMs: -3, servers: [{ id: 's1', routable: true }, { id: 's2', routable: true }] },
    { atMs: 11, servers: [{ id: 's1', routable: true }, { id: 's2', routable: false }] },
  ];

  it('calls come in time order, each bucket before anything else at its instant', async () => {
    const rec = recorder(10);
    const result = await joinProxyLog(rec, { completions, access, members, t0EpochMs: T0, endMs: 26 });
    const times = rec.calls.map((c) => c.atMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(rec.calls.filter((c) => c.kind === 'bucket').map((c) => c.atMs)).toEqual([10, 20]);
    expect(result.endMs).toBe(26);
  });

  it('in flight at a boundary counts the attempts started and not yet ended; healthy is the last members line before it', async () => {
    const rec = recorder(10);
    const result = await joinProxyLog(rec, { completions, access, members, t0EpochMs: T0, endMs: 26 });
    const buckets = rec.calls.filter((c): c is Extract<Call, { kind: 'bucket' }> => c.kind === 'bucket');
    expect(buckets[0].servers).toEqual([{ id: 's1', inFlight: 1, healthy: true }, { id: 's2', inFlight: 1, healthy: true }]);
    expect(buckets[1].servers).toEqual([{ id: 's1', inFlight: 0, healthy: true }, { id: 's2', inFlight: 0, healthy: false }]);
    expect(result.final).toEqual(buckets[1].servers);
  });

  it('each request is a row with the proxy\'s path and outcome; one the proxy never logged still is, with no servers', async () => {
    const rec = recorder(10);
    const result = await joinProxyLog(rec, { completions, access, members, t0EpochMs: T0, endMs: 26 });
    const rows = rec.calls.filter((c): c is Extract<Call, { kind: 'done' }> => c.kind === 'done').map((c) => c.r);
    expect(rows.map((r) => [r.id, r.outcome, r.servers.join('|')])).toEqual([
      [1, 'ok', 's1'], [2, 'ok', 's2|s1'], [3, 'no_backend', ''], [4, 'upstream_reset', ''],
    ]);
    expect(result.unlogged).toBe(1);
    const ends = rec.calls.filter((c) => c.kind === 'end').map((c) => [c.kind === 'end' && c.server, c.kind === 'end' && c.ok]);
    expect(ends).toEqual([['s2', false], ['s1', true], ['s1', true]]);
  });

  it('a proxy that logs the path but no times: attempts at the client\'s send and answer, only the last can be ok', async () => {
    const rec = recorder(100);
    await joinProxyLog(rec, {
      completions: [completion(7, 1, 9, 200)], access: [{ requestId: '7', status: 200, servers: ['s2', 's1'] }],
      members, t0EpochMs: T0, endMs: 10,
    });
    expect(rec.calls.map((c) => (c.kind === 'done' ? 'done' : `${c.kind} ${'server' in c ? c.server : ''} ${c.atMs}${'ok' in c ? ` ${c.ok}` : ''}`))).toEqual([
      'start s2 1', 'start s1 1', 'end s2 9 false', 'end s1 9 true', 'done',
    ]);
  });
});
