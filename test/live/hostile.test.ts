// Malformed and hostile requests on raw sockets: each gets a 4xx from the proxy (never
// reaching a backend), the connection is closed, and the proxy keeps serving.
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { proxy, raw, replicas, send } from './helpers.ts';

let rs: SpawnedReplica[];
let p: RunningProxy;
let port: number;
const MAX_BODY = 100_000;

beforeAll(async () => {
  rs = await replicas(1);
  p = await proxy({ backends: [{ url: rs[0].url }], limits: { maxBodyBytes: MAX_BODY, maxHeaderCount: 50, headersTimeoutMs: 1_000 } });
  port = Number(new URL(p.url).port);
});

const req = (lines: string[], body = '') => lines.join('\r\n') + '\r\n\r\n' + body;
const manyHeaders = Array.from({ length: 60 }, (_, i) => `X-H${i}: ${i}`);

const cases: Array<[string, string, number, string?]> = [
  ['two Host headers', req(['GET /home HTTP/1.1', 'Host: a.example', 'Host: b.example']), 400, 'duplicate_host'],
  ['absolute-form target', req(['GET http://169.254.169.254/latest/meta-data HTTP/1.1', 'Host: a']), 400, 'bad_target'],
  ['asterisk target', req(['OPTIONS * HTTP/1.1', 'Host: a']), 400, 'bad_target'],
  ['more headers than allowed (Content-Length last)', req(['POST /x HTTP/1.1', 'Host: a', ...manyHeaders, 'Content-Length: 5'], 'hello'), 431, 'too_many_headers'],
  ['17 KiB header', req(['GET /x HTTP/1.1', 'Host: a', `X-Big: ${'a'.repeat(17_000)}`]), 431, 'headers_too_large'],
  ['declared body over the limit', req(['POST /x HTTP/1.1', 'Host: a', `Content-Length: ${MAX_BODY + 1}`], 'x'.repeat(1_000)), 413, 'body_too_large'],
  ['chunked body over the limit', req(['POST /x HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'],
    `${(MAX_BODY + 10).toString(16)}\r\n${'y'.repeat(MAX_BODY + 10)}\r\n0\r\n\r\n`), 413, 'body_too_large'],
  ['Content-Length and Transfer-Encoding', req(['POST /x HTTP/1.1', 'Host: a', 'Content-Length: 6', 'Transfer-Encoding: chunked'],
    '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n'), 400, 'bad_request'],
  ['two different Content-Length', req(['POST /x HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Content-Length: 4'], 'abcd'), 400, 'bad_request'],
  ['bad Content-Length', req(['POST /x HTTP/1.1', 'Host: a', 'Content-Length: 4 2'], 'abcd'), 400, 'bad_request'],
  ['obfuscated Transfer-Encoding', req(['POST /x HTTP/1.1', 'Host: a', 'Transfer-Encoding: xchunked'], '0\r\n\r\n'), 400, 'bad_request'],
  ['missing Host', req(['GET /x HTTP/1.1']), 400, 'missing_host'],
  ['garbage request line', 'HELLO\r\n\r\n', 400, 'bad_request'],
];

describe('hostile and malformed requests', () => {
  for (const [name, payload, status, code] of cases) {
    it(`${name} → ${status}${code ? ` ${code}` : ''}`, async () => {
      const seenBefore = rs[0].requests.length;
      const r = await raw(port, payload);
      expect(r.status).toBe(status);
      if (code) expect(r.text.toLowerCase()).toContain(`x-fulcrum-error: ${code}`);
      expect(r.text.toLowerCase()).toContain('x-fulcrum-attempts:');
      expect(rs[0].requests.length).toBe(seenBefore); // never reached the backend
      expect((await send(`${p.url}/home`)).status).toBe(200); // and the proxy keeps serving
    });
  }

  it('slow headers are cut at headersTimeout with 408, and the proxy keeps serving', async () => {
    const t0 = Date.now();
    const r = await raw(port, 'GET /home HTTP/1.1\r\nHost: a\r\nX-Slow: 1', 5_000); // never finishes its headers
    expect(r.status).toBe(408);
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect((await send(`${p.url}/home`)).status).toBe(200);
  });
});
