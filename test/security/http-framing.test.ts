// Malformed and hostile HTTP/1 on raw sockets: the request-smuggling set, Host and target
// tricks, oversized headers and bodies, and pipelines with one bad request in them. For
// every case: the expected answer (or a silent close), the connection closed, exactly the
// expected requests reached the backend (its own request log, and the proxy's flow count),
// and a normal request right after is served.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { proxy, replicas, send } from '../live/helpers.ts';
import { exchange, held, printHeldRows, req, seenSince, waitForPath } from './helpers.ts';

let rs: SpawnedReplica[];
let p: RunningProxy;
let port: number;
// Below the 64 KiB replay buffer: an over-limit body is found before anything is forwarded.
// (A body that streams past the buffer and then the limit is the last test here.)
const MAX_BODY = 50_000;

beforeAll(async () => {
  rs = await replicas(1);
  p = await proxy({ backends: [{ url: rs[0].url }], limits: { maxBodyBytes: MAX_BODY, maxHeaderCount: 50 } });
  port = Number(new URL(p.url).port);
});
afterAll(printHeldRows);

/** What a smuggler hides in a body: it must never appear in the backend's log. */
const SMUGGLED = req(['GET /smuggled HTTP/1.1', 'Host: a']);
const post = (headers: string[], body: string, version = '1.1') => req([`POST /x HTTP/${version}`, 'Host: a', ...headers], body);
const chunked = (body: string) => post(['Transfer-Encoding: chunked'], body);
const get = (path: string, ...headers: string[]) => req([`GET ${path} HTTP/1.1`, 'Host: a', ...headers]);
const manyHeaders = Array.from({ length: 60 }, (_, i) => `X-H${i}: ${i}`);

interface Case {
  name: string;
  payload: string;
  /** Every answer on the connection; [] = closed without one. */
  statuses: number[];
  /** x-fulcrum-error of the last answer. */
  code?: string;
  /** Requests the backend must see (`METHOD path`), in any order; none by default. */
  forwarded?: string[];
  /** Body bytes the backend must receive for an accepted POST. */
  bodyBytes?: number;
}

const cases: Case[] = [
  // Request smuggling: conflicting or ambiguous framing (RFC 9112 §6.3) → 400 and close.
  { name: 'CL then TE (CL.TE)', payload: post(['Content-Length: 6', 'Transfer-Encoding: chunked'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_request' },
  { name: 'TE then CL (TE.CL)', payload: post(['Transfer-Encoding: chunked', 'Content-Length: 6'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_request' },
  { name: 'TE with chunked not last (chunked, identity)', payload: post(['Transfer-Encoding: chunked, identity'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_request' },
  { name: 'TE gzip without chunked', payload: post(['Transfer-Encoding: gzip'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_framing' },
  { name: 'two TE headers: chunked, chunked', payload: post(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_request' },
  // Node frames these as chunked but would leave the other coding undecoded: refused by the proxy.
  { name: 'two TE headers: identity, then chunked', payload: post(['Transfer-Encoding: identity', 'Transfer-Encoding: chunked'], '0\r\n\r\n' + SMUGGLED), statuses: [501], code: 'unsupported_transfer_coding' },
  { name: 'TE gzip, chunked', payload: post(['Transfer-Encoding: gzip, chunked'], '5\r\nhello\r\n0\r\n\r\n'), statuses: [501], code: 'unsupported_transfer_coding' },
  { name: 'TE xchunked', payload: post(['Transfer-Encoding: xchunked'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_framing' },
  { name: 'TE with space before colon', payload: post(['Transfer-Encoding : chunked'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_request' },
  { name: 'TE continued by obs-fold', payload: post(['Transfer-Encoding: identity', ' chunked'], '0\r\n\r\n' + SMUGGLED), statuses: [400], code: 'bad_request' },
  { name: 'HTTP/1.0 with TE', payload: post(['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n', '1.0'), statuses: [400], code: 'bad_framing' },
  { name: 'HTTP/1.0 with TE and CL', payload: post(['Transfer-Encoding: chunked', 'Content-Length: 3'], '5\r\nhello\r\n0\r\n\r\n', '1.0'), statuses: [400], code: 'bad_request' },
  // Duplicate identical Content-Length: RFC 9112 §6.3 *allows* merging equal values; llhttp
  // refuses, and so do we: one length per message leaves no room for disagreement.
  { name: 'duplicate identical Content-Length', payload: post(['Content-Length: 5', 'Content-Length: 5'], 'hello'), statuses: [400], code: 'bad_request' },
  { name: 'Content-Length list 5, 5', payload: post(['Content-Length: 5, 5'], 'hello'), statuses: [400], code: 'bad_request' },
  { name: 'two different Content-Length', payload: post(['Content-Length: 3', 'Content-Length: 5'], 'hello' + SMUGGLED), statuses: [400], code: 'bad_request' },
  ...['+5', '-1', '0x5', '5e0', '4 2', '', '100000000000000000000000'].map((v): Case => (
    { name: `Content-Length "${v.length > 10 ? '1e23' : v}"`, payload: post([`Content-Length: ${v}`], 'hello'), statuses: [400], code: 'bad_request' })),
  // Bad chunked framing.
  ...([
    ['non-hex size', 'zz\r\nhello\r\n0\r\n\r\n'],
    ['negative size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['overflowing size', 'ffffffffffffffffff\r\nhello\r\n0\r\n\r\n'],
    ['0x-prefixed size', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['junk after the size', '5 erfr\r\nhello\r\n0\r\n\r\n'],
    ['extension with an unbalanced quote', '5;a="b\r\nhello\r\n0\r\n\r\n'],
    ['extension with a bare CR', '5;a=\rb\r\nhello\r\n0\r\n\r\n'],
    ['missing CRLF after chunk data', '5\r\nhelloXX0\r\n\r\n'],
    ['chunk data longer than its size', '3\r\nhello\r\n0\r\n\r\n' + SMUGGLED],
    ['bare LF in chunk framing', '5\nhello\n0\n\n'],
  ] as const).map(([what, body]): Case => ({ name: `chunked body: ${what}`, payload: chunked(body), statuses: [400], code: 'bad_request' })),
  // Malformed header section.
  { name: 'obs-fold continuation line', payload: get('/x', 'X-A: 1', ' continued'), statuses: [400], code: 'bad_request' },
  { name: 'bare LF line endings', payload: 'GET /x HTTP/1.1\nHost: a\n\n', statuses: [400], code: 'bad_request' },
  { name: 'one header ended by a bare LF', payload: 'GET /x HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n', statuses: [400], code: 'bad_request' },
  { name: 'NUL in a header value', payload: get('/x', 'X-A: a\0b'), statuses: [400], code: 'bad_request' },
  { name: 'CR in a header value', payload: get('/x', 'X-A: a\rb'), statuses: [400], code: 'bad_request' },
  { name: 'header name with space before colon', payload: get('/x', 'X-A : 1'), statuses: [400], code: 'bad_request' },
  { name: 'header line starting with a space', payload: 'GET /x HTTP/1.1\r\n Host: a\r\n\r\n', statuses: [400], code: 'bad_request' },
  { name: '\\r\\n\\rX header terminator', payload: 'GET /x HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n', statuses: [400], code: 'bad_request' },
  { name: 'garbage request line', payload: 'HELLO\r\n\r\n', statuses: [400], code: 'bad_request' },
  { name: 'HTTP/9.9', payload: req(['GET /x HTTP/9.9', 'Host: a']), statuses: [400], code: 'bad_request' },
  { name: 'HTTP/2.0 request line', payload: req(['GET /x HTTP/2.0', 'Host: a']), statuses: [505], code: 'unsupported_version' },
  { name: 'HTTP/0.9 request line', payload: req(['GET /x HTTP/0.9', 'Host: a']), statuses: [505], code: 'unsupported_version' },
  // Host and target.
  { name: 'two Host headers', payload: req(['GET /home HTTP/1.1', 'Host: a.example', 'Host: b.example']), statuses: [400], code: 'duplicate_host' },
  { name: 'missing Host', payload: req(['GET /x HTTP/1.1']), statuses: [400], code: 'missing_host' },
  { name: 'Host with a space', payload: req(['GET /x HTTP/1.1', 'Host: a b']), statuses: [400], code: 'bad_host' },
  { name: 'Host with a path', payload: req(['GET /x HTTP/1.1', 'Host: a/evil']), statuses: [400], code: 'bad_host' },
  { name: 'absolute-form target (metadata IP)', payload: req(['GET http://169.254.169.254/latest/meta-data HTTP/1.1', 'Host: a']), statuses: [400], code: 'bad_target' },
  { name: 'asterisk target', payload: req(['OPTIONS * HTTP/1.1', 'Host: a']), statuses: [400], code: 'bad_target' },
  { name: 'CONNECT tunnel', payload: req(['CONNECT 127.0.0.1:22 HTTP/1.1', 'Host: 127.0.0.1:22']), statuses: [] },
  // Sizes.
  { name: 'more headers than allowed (Content-Length last)', payload: req(['POST /x HTTP/1.1', 'Host: a', ...manyHeaders, 'Content-Length: 5'], 'hello'), statuses: [431], code: 'too_many_headers' },
  { name: '17 KiB header', payload: get('/x', `X-Big: ${'a'.repeat(17_000)}`), statuses: [431], code: 'headers_too_large' },
  { name: '20 KiB URL', payload: get(`/${'a'.repeat(20_000)}`), statuses: [431], code: 'headers_too_large' },
  { name: 'declared body over the limit', payload: post([`Content-Length: ${MAX_BODY + 1}`], 'x'.repeat(1_000)), statuses: [413], code: 'body_too_large' },
  { name: 'chunked body over the limit', payload: chunked(`${(MAX_BODY + 10).toString(16)}\r\n${'y'.repeat(MAX_BODY + 10)}\r\n0\r\n\r\n`), statuses: [413], code: 'body_too_large' },
  // Pipelines: the answers before the bad request arrive; nothing after it reaches a backend.
  { name: 'pipeline: good, good', payload: get('/p1') + get('/p2', 'Connection: close'), statuses: [200, 200], forwarded: ['GET /p1', 'GET /p2'] },
  { name: 'pipeline: good, CL.TE carrying a request', payload: get('/p1') + post(['Content-Length: 3', 'Transfer-Encoding: chunked'], '0\r\n\r\n' + SMUGGLED), statuses: [200, 400], code: 'bad_request', forwarded: ['GET /p1'] },
  { name: 'pipeline: good, two Host, good', payload: get('/p1') + req(['GET /p2 HTTP/1.1', 'Host: a', 'Host: b']) + get('/p3'), statuses: [200, 400], code: 'duplicate_host', forwarded: ['GET /p1'] },
  { name: 'pipeline: good, absolute-form, good', payload: get('/p1') + req(['GET http://127.0.0.1:1/p2 HTTP/1.1', 'Host: a']) + get('/p3'), statuses: [200, 400], code: 'bad_target', forwarded: ['GET /p1'] },
  { name: 'pipeline: good, too many headers, good', payload: get('/p1') + get('/p2', ...manyHeaders) + get('/p3'), statuses: [200, 431], code: 'too_many_headers', forwarded: ['GET /p1'] },
  { name: 'pipeline: good, body over the limit, good', payload: get('/p1') + post([`Content-Length: ${MAX_BODY + 1}`], '') + get('/p3'), statuses: [200, 413], code: 'body_too_large', forwarded: ['GET /p1'] },
  { name: 'pipeline: good, HTTP/1.0 with TE, good', payload: get('/p1') + post(['Transfer-Encoding: chunked'], '0\r\n\r\n', '1.0') + get('/p3'), statuses: [200, 400], code: 'bad_framing', forwarded: ['GET /p1'] },
  // Bytes after `Connection: close` are a parse error to llhttp; the first request is still
  // answered, and nothing after it is read (RFC 9112 §9.6).
  { name: 'pipeline: Connection: close, then more', payload: get('/p1', 'Connection: close') + get('/p2'), statuses: [200], forwarded: ['GET /p1'] },
  // Accepted, for contrast: legal spellings reach the backend whole, exactly once.
  { name: 'accepted: Content-Length with spaces around it', payload: post(['Content-Length:  5 ', 'Connection: close'], 'hello'), statuses: [200], forwarded: ['POST /x'], bodyBytes: 5 },
  { name: 'accepted: chunk extension', payload: post(['Transfer-Encoding: chunked', 'Connection: close'], '5;name=value\r\nhello\r\n0\r\n\r\n'), statuses: [200], forwarded: ['POST /x'], bodyBytes: 5 },
  { name: 'accepted: Transfer-Encoding: Chunked', payload: post(['Transfer-Encoding: Chunked', 'Connection: close'], '5\r\nhello\r\n0\r\n\r\n'), statuses: [200], forwarded: ['POST /x'], bodyBytes: 5 },
];

/** Requests written on the wire (smuggled ones included), for the README's count. */
const requestsIn = (payload: string) => Math.max(1, payload.match(/(?:^|\n)[A-Z]+ \S+ HTTP\/\d\.\d\r?\n/g)?.length ?? 0);

describe('malformed and hostile requests on raw sockets', () => {
  cases.forEach((c, i) => {
    const answer = c.statuses.length ? c.statuses.join(', ') : 'closed, no answer';
    it(`${c.name} → ${answer}${c.code ? ` ${c.code}` : ''}`, async () => {
      const from = rs[0].requests.length;
      const flowsBefore = p.router.counts.requests;
      const ex = await exchange(port, c.payload);
      expect(ex.statuses).toEqual(c.statuses);
      expect(ex.closedByServer).toBe(true);
      if (c.code) {
        expect(ex.codes.at(-1)).toBe(c.code);
        expect(ex.text.toLowerCase()).toContain('x-fulcrum-attempts:');
      }
      if (c.bodyBytes !== undefined) expect(JSON.parse(ex.text.slice(ex.text.indexOf('\r\n\r\n') + 4)).bytesReceived).toBe(c.bodyBytes);
      // The proxy keeps serving; once this sentinel is in the backend's log, anything the
      // case had forwarded would be there too.
      const sentinel = `/after-${i}`;
      expect((await send(`${p.url}${sentinel}`)).status).toBe(200);
      await waitForPath(rs[0], sentinel);
      const seen = seenSince(rs[0], from).filter((l) => l !== `GET ${sentinel}`);
      expect(seen.sort()).toEqual([...(c.forwarded ?? [])].sort());
      expect(p.router.counts.requests - flowsBefore).toBe((c.forwarded?.length ?? 0) + 1);
      held(c.name, requestsIn(c.payload) + 1, `${answer}${c.code ? ` \`${c.code}\`` : ''}; backend saw ${c.forwarded?.length ?? 0}`);
    });
  });

  it('no smuggled request ever reached the backend', () => {
    expect(rs[0].requests.filter((e) => e.path.includes('smuggled'))).toEqual([]);
  });

  it('a chunked body that streams past the replay buffer and then the limit: 413, the upstream request aborted', async () => {
    const [r] = await replicas(1);
    const limited = await proxy({ backends: [{ url: r.url }], limits: { maxBodyBytes: 100_000 } });
    const chunk = `${(20_000).toString(16)}\r\n${'z'.repeat(20_000)}\r\n`;
    const ex = await exchange(Number(new URL(limited.url).port),
      [req(['POST /streamed HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']), ...Array(8).fill(chunk), '0\r\n\r\n'], { gapMs: 20 });
    expect(ex.statuses).toEqual([413]);
    expect(ex.codes).toEqual(['body_too_large']);
    expect(ex.closedByServer).toBe(true);
    // Streaming had begun (past 64 KiB), so the backend may have seen the request start; it
    // never answered it, and no answer of its reached the client.
    expect(ex.text).not.toContain('"server":"s1"');
    expect((await send(`${limited.url}/after-streamed`)).status).toBe(200);
    await waitForPath(r, '/after-streamed');
    expect(seenSince(r, 0).filter((l) => l !== 'POST /streamed')).toEqual(['GET /after-streamed']);
    held('chunked body streaming past the 64 KiB replay buffer, then the 100 kB limit', 2, '413 `body_too_large`; upstream request aborted');
  });
});
