// Each trace format, parsed line by line: what a good line yields, what is skipped (and
// counted), and that a malformed line stops the read with its file and line number and
// what was expected there.
import { describe, expect, it } from 'vitest';
import { checkTrace } from '../../experiments/trace/arrivals.ts';
import { REORDER_LINES, readTrace } from '../../experiments/trace/read.ts';
import { type TraceFormat, TraceError, type TraceRecord } from '../../experiments/trace/record.ts';
import { HAPROXY_OK, NGINX_OK, traceFile } from './helpers.ts';

function read(file: string, format: TraceFormat): TraceRecord[] {
  return [...readTrace(file, format)];
}

/** The TraceError a read throws; fails the test when it reads through. */
function errorOf(file: string, format: TraceFormat): TraceError {
  try {
    read(file, format);
  } catch (e) {
    if (e instanceof TraceError) return e;
    throw e;
  }
  throw new Error('expected a TraceError');
}

describe('NGINX combined + $request_time $upstream_response_time $upstream_addr [$msec]', () => {
  it('arrival = log time − request time; service = the answering upstream\'s time', () => {
    const withMsec = NGINX_OK.replace('0.013 0.010 10.0.0.5:80', '0.013 0.030, 0.010 10.0.0.4:80, 10.0.0.5:80 1796506434.123');
    const [a, b] = read(traceFile('access.log', [NGINX_OK, withMsec]), 'nginx');
    expect(a).toEqual({ line: 1, atMs: Date.UTC(2026, 11, 5, 21, 33, 54) - 13, client: '10.0.0.1', method: 'GET', path: '/api/x?a=1', upstreamMs: 10, server: '10.0.0.5:80' });
    expect(b).toMatchObject({ line: 2, atMs: 1796506434123 - 13, upstreamMs: 10, server: '10.0.0.5:80' }); // the second upstream answered
  });

  it('skips lines no upstream answered, and counts them', () => {
    const file = traceFile('access.log', [NGINX_OK, '10.0.0.9 - - [05/Dec/2026:21:33:55 +0000] "-" 400 0 "-" "-" 0.000 - -', NGINX_OK]);
    const r = checkTrace({ file, format: 'nginx' });
    expect(r.records).toBe(2);
    expect([...r.skipped.values()]).toEqual([1]);
  });

  it.each([
    ['a missing upstream part', NGINX_OK.replace(' 0.013 0.010 10.0.0.5:80', ''), /:2: .*\$request_time: expected seconds/],
    ['a bad date', NGINX_OK.replace('05/Dec/2026', '05/Foo/2026'), /:2: .*\$time_local: expected e\.g\. 05\/Dec\/2026/],
    ['a bad upstream time', NGINX_OK.replace('0.013 0.010', '0.013 fast'), /:2: .*\$upstream_response_time: expected seconds or -/],
    ['no request line', NGINX_OK.replace('"GET /api/x?a=1 HTTP/1.1"', '"\\x16\\x03"'), /:2: .*\$request: expected "METHOD \/path HTTP\/x"/],
    ['not the combined format', 'hello world', /:2: expected NGINX combined/],
  ])('%s → file:line and what was expected', (_name, bad, message) => {
    const file = traceFile('access.log', [NGINX_OK, bad, NGINX_OK]);
    const e = errorOf(file, 'nginx');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${file}:2: `)).toBe(true);
  });
});

describe('HAProxy option httplog', () => {
  it('arrival = the request date; service = Tr; the syslog prefix is optional', () => {
    const [a, b] = read(traceFile('haproxy.log', [HAPROXY_OK, `Feb  6 12:14:14 lb haproxy[14389]: ${HAPROXY_OK.replace('GET /index.html', 'POST /x?y=1')}`]), 'haproxy');
    expect(a).toEqual({ line: 1, atMs: Date.UTC(2009, 1, 6, 12, 14, 14, 655), client: '10.0.1.2', method: 'GET', path: '/index.html', upstreamMs: 69, server: 'static/srv1' });
    expect(b).toMatchObject({ line: 2, method: 'POST', path: '/x?y=1', upstreamMs: 69 });
  });

  it('skips requests no server answered (<NOSRV>, Tr = -1)', () => {
    const file = traceFile('haproxy.log', [HAPROXY_OK, HAPROXY_OK.replace('static/srv1 10/0/30/69/109', 'static/<NOSRV> 10/-1/-1/-1/10'), HAPROXY_OK.replace('/69/', '/-1/')]);
    expect(checkTrace({ file, format: 'haproxy' }).records).toBe(1);
  });

  it.each([
    ['three timers instead of five', HAPROXY_OK.replace('10/0/30/69/109', '10/0/30'), /:3: expected an HAProxy httplog line/],
    ['a bad date', HAPROXY_OK.replace('06/Feb/2009:12:14:14.655', '2009-02-06 12:14:14'), /:3: .*date: expected e\.g\. 06\/Feb\/2009/],
    ['a bad request line', HAPROXY_OK.replace('"GET /index.html HTTP/1.1"', '"<BADREQ>"'), /:3: .*request: expected "METHOD \/path HTTP\/x"/],
  ])('%s → file:line and what was expected', (_name, bad, message) => {
    const e = errorOf(traceFile('haproxy.log', [HAPROXY_OK, HAPROXY_OK, bad]), 'haproxy');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(message);
  });
});

describe('plain CSV: timestamp,client,method,path,serviceMs', () => {
  const HEADER = 'timestamp,client,method,path,serviceMs';

  it('reads ms and ISO dates, quoted fields, and empty method/path (the workload\'s apply)', () => {
    const file = traceFile('t.csv', [HEADER, '1000,10.0.0.1,GET,/a,5', '2026-12-05T12:00:00.250Z,"user, 7",,,0.5']);
    expect(read(file, 'csv')).toEqual([
      { line: 2, atMs: 1000, client: '10.0.0.1', method: 'GET', path: '/a', upstreamMs: 5 },
      { line: 3, atMs: Date.UTC(2026, 11, 5, 12, 0, 0, 250), client: 'user, 7', method: undefined, path: undefined, upstreamMs: 0.5 },
    ]);
  });

  it.each([
    ['a wrong header', ['time,client,method,path,serviceMs', '1,a,GET,/,1'], 1, /expected the header timestamp,client,method,path,serviceMs/],
    ['four fields', [HEADER, '1,a,GET,/,1', '2,a,GET,/'], 3, /expected 5 fields/],
    ['a negative service time', [HEADER, '1,a,GET,/,1', '2,a,GET,/,-3'], 3, /serviceMs: expected a non-negative number of ms, got "-3"/],
    ['a bad timestamp', [HEADER, 'yesterday,a,GET,/,1'], 2, /timestamp: expected ms .* or an ISO 8601 date/],
    ['an unknown method', [HEADER, '1,a,FETCH,/,1'], 2, /method: expected one of GET, HEAD, POST/],
    ['a path without /', [HEADER, '1,a,GET,index.html,1'], 2, /path: expected a path starting with \//],
    ['a quote left open', [HEADER, '1,a,GET,/,1', '2,"a,GET,/,1'], 3, /a quoted field opened here is still open/],
    ['text after a closing quote', [HEADER, '1,a,GET,/,1', '2,"a"b,GET,/,1', '3,a,GET,/,1'], 3, /not valid CSV: Invalid Closing Quote/],
  ])('%s → file:line and what was expected', (_name, lines, line, message) => {
    const e = errorOf(traceFile('t.csv', lines), 'csv');
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
  });
});

describe('Fulcrum requests.csv', () => {
  it('keeps the client index; the upstream time is the recorded latency; the server is the last one tried', () => {
    const [first] = read('experiments/traces/a9-round-robin.csv', 'fulcrum');
    expect(first).toEqual({ line: 2, atMs: 2.796, client: '0', upstreamMs: 23.866, server: 's1' });
    const [retried] = read(traceFile('r.csv', ['client,startMs,latencyMs,servers', '3,1.5,9,s2|s1']), 'fulcrum');
    expect(retried.server).toBe('s1');
  });

  it('a missing column or a non-index client → file:line', () => {
    expect(errorOf(traceFile('r.csv', ['id,client,startMs', '0,1,2']), 'fulcrum').message).toMatch(/:1: .*missing latencyMs/);
    const e = errorOf(traceFile('r.csv', ['id,client,startMs,latencyMs', '0,1,2,3', '1,10.0.0.1,2,3']), 'fulcrum');
    expect(e.message).toMatch(/:3: client: expected a client index/);
  });
});

describe('arrival order', () => {
  it('restores time order within the reorder window (logs are written at the end of requests)', () => {
    const file = traceFile('t.csv', ['timestamp,client,method,path,serviceMs', '30,a,GET,/,1', '10,b,GET,/,1', '20,c,GET,/,1', '10,d,GET,/,1']);
    expect(read(file, 'csv').map((r) => r.client)).toEqual(['b', 'd', 'c', 'a']); // ties keep file order
  });

  it('an arrival later than the window → an error at its line', () => {
    const lines = ['timestamp,client,method,path,serviceMs', '0,late-writer,GET,/,1'];
    for (let i = 0; i <= REORDER_LINES; i++) lines.push(`${1000 + i},c,GET,/,1`);
    lines.push('500,very-late,GET,/,1');
    const e = errorOf(traceFile('t.csv', lines), 'csv');
    expect(e.line).toBe(lines.length);
    expect(e.message).toMatch(/expected arrivals in time order within 65536 lines/);
  });

  it('a file that does not exist → one line naming it', () => {
    expect(errorOf('/nonexistent/trace.log', 'nginx').message).toMatch(/^\/nonexistent\/trace\.log:0: cannot read the file/);
  });
});
