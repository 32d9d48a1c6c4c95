// The access-log parser on lines the real HAProxy 2.6 wrote (captured into
// fixtures/haproxy-access.log with the generator's log-format; see /work/briefs/haproxy-facts.md).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UNKNOWN_SERVER, parseAccessLine, parseStateNotice, toAccessRecord } from '../../live/runner/proxies/haproxy/access-log.ts';

const lines = readFileSync(new URL('./fixtures/haproxy-access.log', import.meta.url), 'utf8').split('\n');
const line = (id: string, after: string) => {
  const start = lines.findIndex((l) => l.startsWith('#') && l.includes(after));
  const found = lines.slice(start).find((l) => l.endsWith(` ${id}`));
  return parseAccessLine(found!)!;
};

describe('HAProxy access log', () => {
  it('a plain request: one try on %s, the fields and the span from accept time and timers', () => {
    const l = line('r1', 'normal');
    expect(l).toEqual({
      acceptMs: 1796506827530, backend: 'servers', server: 's2', retries: 0, redispatched: false,
      tq: 12, tR: 0, tw: 0, tc: 1, tr: 28, ta: 29, status: 200, termination: '----', requestId: 'r1',
    });
    // The request began at accept + Tq − TR (12 ms of keep-alive idle), and lasted Ta.
    expect(toAccessRecord(l)).toEqual({
      requestId: 'r1', servers: ['s2'], status: 200,
      attempts: [{ server: 's2', startMs: 1796506827542, endMs: 1796506827571, ok: true }],
    });
  });

  it('retries without redispatch stay on the same server; the turn-arounds share the connect phase', () => {
    const l = line('r1', 'no redispatch');
    expect([l.server, l.retries, l.redispatched, l.status, l.termination, l.tc, l.tr]).toEqual(['s2', 2, false, 503, 'SC--', -1, -1]);
    const r = toAccessRecord(l);
    expect(r.servers).toEqual(['s2', 's2', 's2']);
    expect(r.error).toBe('connect_failed'); // SC--: HAProxy's 503 after the connection failed
    expect(r.attempts!.map((a) => a.ok)).toEqual([false, false, false]);
    // 202 ms in all (two turn-arounds of timeout connect 100 ms), from accept + 3 ms.
    expect(r.attempts![0].startMs).toBe(1796506837439 + 3);
    expect(r.attempts!.at(-1)!.endMs).toBe(1796506837439 + 3 + 202);
  });

  it('`+` in %rc: redispatched; the earlier try goes to the server the launcher names, else to "?"', () => {
    const l = line('r1', 'option redispatch');
    expect([l.server, l.retries, l.redispatched, l.status]).toEqual(['s3', 1, true, 200]);
    expect(toAccessRecord(l, 's2').servers).toEqual(['s2', 's3']);
    expect(toAccessRecord(l).servers).toEqual([UNKNOWN_SERVER, 's3']);
    const [failed, served] = toAccessRecord(l, 's2').attempts!;
    expect(failed).toMatchObject({ server: 's2', ok: false });
    expect(served).toMatchObject({ server: 's3', ok: true, endMs: 1796506848190 + 2 + 7 });
    expect(failed.endMs).toBeLessThanOrEqual(served.startMs);
  });

  it('a 500 from the server is a failed try on it; <NOSRV> is no try at all', () => {
    expect(toAccessRecord(line('r4', 'observe'))).toMatchObject({ servers: ['s2'], status: 500, attempts: [{ server: 's2', ok: false }] });
    const nosrv = line('r7', 'checks marked them down');
    expect(nosrv.server).toBe('<NOSRV>');
    expect(toAccessRecord(nosrv)).toEqual({ requestId: 'r7', servers: [], status: 503, error: 'no_backend' });
    expect(toAccessRecord(line('r4', 'observe')).error).toBeUndefined(); // the server's own 500
  });

  it("HAProxy's own notices and comments are not access lines", () => {
    const notices = lines.filter((l) => l && !l.startsWith('fulcrum-access'));
    expect(notices.length).toBeGreaterThan(5);
    for (const n of notices) expect(parseAccessLine(n)).toBeUndefined();
    expect(lines.filter((l) => parseAccessLine(l)).length).toBe(17);
  });

  it("HAProxy's server state notices: DOWN, going DOWN for maintenance, UP", () => {
    expect(parseStateNotice(lines.find((l) => l.startsWith('Server '))!)).toEqual({ server: 's2', up: false });
    expect(parseStateNotice('Server servers/s4 is going DOWN for maintenance. 2 active and 0 backup servers left.')).toEqual({ server: 's4', up: false });
    expect(parseStateNotice('Server servers/s4 is UP/READY (leaving forced maintenance).')).toEqual({ server: 's4', up: true });
    expect(parseStateNotice('Proxy fulcrum stopped (cumulated conns: FE: 1, BE: 0).')).toBeUndefined();
  });

  it('a request id with spaces stays whole; a missing one is empty', () => {
    expect(parseAccessLine('fulcrum-access 1.002 servers/s1 0 0 0 0 0 1 1 200 ---- a b c')!.requestId).toBe('a b c');
    expect(parseAccessLine('fulcrum-access 1.002 servers/s1 0 0 0 0 0 1 1 200 ---- -')!.requestId).toBe('');
  });
});
