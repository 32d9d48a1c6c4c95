// A backend made of a bare `node:net` server: it records the exact bytes of every request
// the proxy sends it (request line, header lines as written, body) and answers with
// whatever bytes a test chooses, well-formed or not. An HTTP server library would
// normalise both directions, which is exactly what these tests must see past.
import { type Server, type Socket, createServer } from 'node:net';

export interface CapturedRequest {
  /** Request line as written, e.g. `GET /x HTTP/1.1`. */
  line: string;
  target: string;
  /** Header lines in order, names as written. */
  headers: Array<[string, string]>;
  /** The message body after de-chunking. */
  body: Buffer;
  /** Every byte of the message as it arrived. */
  raw: Buffer;
  /** Index of the connection it came on (0-based, in accept order). */
  connection: number;
}

/** Bytes to write; `close` ends the connection after them. `destroy` closes with no bytes at all. */
export type Answer = { bytes: string; close?: boolean } | 'destroy';

export interface RawBackend {
  readonly url: string;
  readonly port: number;
  /** Requests other than health checks, in arrival order. */
  readonly requests: CapturedRequest[];
  /** Connections accepted so far. */
  connections: number;
  /** Bytes left unparsed when a connection closed (a request the proxy sent incompletely, or bytes behind one). */
  readonly leftovers: Buffer[];
  close(): Promise<void>;
}

/** A plain 200 with a Content-Length (keep-alive). */
export function okAnswer(body = 'ok', extraHeaders: string[] = []): Answer {
  return { bytes: ['HTTP/1.1 200 OK', `content-length: ${Buffer.byteLength(body)}`, ...extraHeaders, '', body].join('\r\n') };
}

/** Values of header `name` (case-insensitive) in the order they arrived. */
export function headerValues(r: CapturedRequest, name: string): string[] {
  return r.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
}

/**
 * Listens on `host:port` (0 = any free port). `answer` sees each request once it is whole;
 * health checks (`/heartbeat`) are answered 200 and not recorded.
 */
export function rawBackend(answer: (r: CapturedRequest) => Answer = () => okAnswer(), o: { host?: string; port?: number } = {}): Promise<RawBackend> {
  const requests: CapturedRequest[] = [];
  const leftovers: Buffer[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((socket) => {
    const connection = state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // the proxy may reset a connection it gave up on
    let pending = Buffer.alloc(0);
    socket.on('close', () => { if (pending.length > 0) leftovers.push(pending); });
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let parsed = parseRequest(pending, connection); parsed; parsed = parseRequest(pending, connection)) {
        pending = pending.subarray(parsed.raw.length);
        const reply = parsed.target === '/heartbeat' ? okAnswer() : answer(parsed);
        if (parsed.target !== '/heartbeat') requests.push(parsed);
        if (reply === 'destroy') { socket.destroy(); return; }
        socket.write(Buffer.from(reply.bytes, 'latin1'));
        if (reply.close) { socket.end(); return; }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        url: `http://${o.host ?? '127.0.0.1'}:${port}`, port, requests, leftovers,
        get connections() { return state.connections; },
        close: () => new Promise<void>((done) => { for (const s of sockets) s.destroy(); server.close(() => done()); }),
      });
    });
  });
}

const CRLF = Buffer.from('\r\n');

/** One whole request at the start of `buf` (Content-Length or chunked framing), or undefined if more bytes are needed. */
function parseRequest(buf: Buffer, connection: number): CapturedRequest | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [line, ...headerLines] = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = headerLines.map((h): [string, string] => [h.slice(0, h.indexOf(':')), h.slice(h.indexOf(':') + 1).trim()]);
  const find = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1];
  let at = headEnd + 4;
  let body: Buffer;
  if (/chunked/i.test(find('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const sizeEnd = buf.indexOf(CRLF, at);
      if (sizeEnd < 0) return undefined;
      const size = parseInt(buf.subarray(at, sizeEnd).toString('latin1'), 16);
      at = sizeEnd + 2;
      if (size === 0) break;
      if (buf.length < at + size + 2) return undefined;
      parts.push(buf.subarray(at, at + size));
      at += size + 2;
    }
    // Trailer section: lines up to an empty one.
    for (;;) {
      const lineEnd = buf.indexOf(CRLF, at);
      if (lineEnd < 0) return undefined;
      const empty = lineEnd === at;
      at = lineEnd + 2;
      if (empty) break;
    }
    body = Buffer.concat(parts);
  } else {
    const length = Number(find('content-length') ?? 0);
    if (buf.length < at + length) return undefined;
    body = buf.subarray(at, at + length);
    at += length;
  }
  return { line, target: line.split(' ')[1], headers, body: Buffer.from(body), raw: Buffer.from(buf.subarray(0, at)), connection };
}
