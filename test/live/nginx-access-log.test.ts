// NGINX's access log lines → AccessRecord: every try NGINX lists, mapped back to server ids,
// spans laid end to end from the request's start, and NGINX's own answers told apart.
import { describe, expect, it } from 'vitest';
import { ServerAddresses, parseAccessLine, toAccessRecord } from '../../live/runner/proxies/nginx/access-log.ts';

const line = (fields: string[]) => ['fulcrum-access', ...fields].join('\t');
const addresses = new ServerAddresses();
addresses.set('127.0.0.1:41001', 's1');
addresses.set('127.0.0.1:41002', 's2');
addresses.set('unix:s3.sock', 's3');
const record = (fields: string[]) => toAccessRecord(parseAccessLine(line(fields))!, addresses.idOf);

describe("NGINX's access log", () => {
  it('one try: the server, its span ending with the request, ok', () => {
    expect(record(['1765000000.250', '0.050', '200', '77', '127.0.0.1:41001', '200', '0.001', '0.049', 'r1'])).toEqual({
      requestId: 'r1', servers: ['s1'], status: 200,
      attempts: [{ server: 's1', startMs: 1765000000200, endMs: 1765000000250, ok: true }],
    });
  });

  it('a refused try then the next server (", " lists): both attempts, in order, end to end; a Unix socket server by its name', () => {
    const r = record(['1765000000.250', '0.030', '200', '77', '127.0.0.1:41002, unix:s3.sock', '502, 200', '-, 0.000', '0.001, 0.029', 'r2']);
    expect(r.servers).toEqual(['s2', 's3']);
    expect(r.error).toBeUndefined();
    expect(r.attempts).toEqual([
      { server: 's2', startMs: 1765000000220, endMs: 1765000000221, ok: false },
      { server: 's3', startMs: 1765000000221, endMs: 1765000000250, ok: true },
    ]);
  });

  it("NGINX's own answers: no live server names the upstream (no_backend); refused (connect_failed); broken after connecting (upstream_reset); timed out", () => {
    expect(record(['1765000000.000', '0.000', '502', '77', 'servers', '502', '-', '0.000', 'a'])).toMatchObject({ servers: [], status: 502, error: 'no_backend' });
    expect(record(['1765000000.000', '0.001', '502', '77', '127.0.0.1:41001', '502', '-', '0.001', 'b'])).toMatchObject({ servers: ['s1'], error: 'connect_failed' });
    expect(record(['1765000000.000', '0.004', '502', '77', '127.0.0.1:41001', '502', '0.000', '0.004', 'c'])).toMatchObject({ servers: ['s1'], error: 'upstream_reset' });
    expect(record(['1765000001.000', '1.000', '504', '77', '127.0.0.1:41001', '504', '0.000', '1.000', 'd'])).toMatchObject({ error: 'upstream_timeout' });
    // A server's own 500 is the server's answer, not NGINX's.
    expect(record(['1765000000.000', '0.002', '500', '77', '127.0.0.1:41001', '500', '0.000', '0.002', 'e']).error).toBeUndefined();
  });

  it('a request that never reached the upstream (no x-request-id, "-" everywhere), and lines that are not ours', () => {
    expect(record(['1765000000.000', '0.000', '400', '77', '-', '-', '-', '-', '-'])).toEqual({ requestId: '', servers: [], status: 400 });
    expect(parseAccessLine('2026/12/06 00:06:47 [notice] 1327#1327: start worker processes')).toBeUndefined();
    expect(parseAccessLine(line(['1', '2']))).toBeUndefined();
  });
});
