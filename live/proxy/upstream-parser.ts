// Three places where undici's HTTP/1 response parser (llhttp, built lenient) and its client
// disagree with what a proxy may relay (issue 14, findings 3, 5, 6). undici offers no hook
// for any of them, so its parser class is patched once, from the first backend socket:
// - A bare CR ending the status line (`200 OK\r\rContent-Length: 4`, llhttp's "Bare CR
//   followed by CR") is accepted by llhttp; HAProxy answers 502. Here it is a parse error,
//   so the attempt fails like any other junk answer (502 `upstream_reset`, counted).
// - An unexpected `100 Continue` makes undici destroy the socket ("bad response"); RFC 9110
//   §15.2 says a client must handle unexpected 1xx. It is dropped like the other interim
//   answers undici already skips, and the final answer is relayed.
// - A 204 or 304 carrying Content-Length has no body (RFC 9112 §6.3), but undici compares
//   the length with the zero bytes read and fails the request. The length is ignored there;
//   stray bytes after such an answer are a broken connection, not part of the answer.
// The patch is checked on first use: if undici's internals change, the proxy refuses to
// start forwarding rather than silently losing the checks (test/security guards each one).
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';

const CR = 13;
const LF = 10;

interface H1Parser {
  statusCode: number;
  contentLength: string;
  execute(chunk: Buffer): void;
  onStatus(buf: Buffer): number;
  onHeadersComplete(statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number;
}

/**
 * The chunk being parsed, for onStatus: a module variable rather than a field written on
 * undici's parser object twice per execute (execute is synchronous; the previous value is
 * restored for a nested call).
 */
let parsing: Buffer | undefined;

let patched = false;

function patchParser(proto: H1Parser): void {
  const { execute, onStatus, onHeadersComplete } = proto;
  if (typeof execute !== 'function' || typeof onStatus !== 'function' || typeof onHeadersComplete !== 'function') {
    throw new Error('undici HTTP/1 parser has changed: live/proxy/upstream-parser.ts must be updated');
  }
  proto.execute = function (this: H1Parser, chunk: Buffer) {
    const outer = parsing; // a callback may parse another socket's bytes synchronously
    parsing = chunk;
    try { execute.call(this, chunk); } finally { parsing = outer; }
  };
  proto.onStatus = function (this: H1Parser, buf: Buffer) {
    // `buf` is a view into the chunk being parsed: look at the two bytes after the reason phrase.
    const chunk = parsing;
    if (chunk && chunk.buffer === buf.buffer) {
      const end = buf.byteOffset + buf.length - chunk.byteOffset;
      if (end + 1 < chunk.length && chunk[end] === CR && chunk[end + 1] !== LF) return -1; // llhttp: "Span callback error"
    }
    return onStatus.call(this, buf);
  };
  proto.onHeadersComplete = function (this: H1Parser, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean) {
    if (statusCode === 204 || statusCode === 304) this.contentLength = '';
    // 102 takes undici's path for interim answers (skipped); 100 would destroy the socket.
    return onHeadersComplete.call(this, statusCode === 100 ? 102 : statusCode, upgrade, shouldKeepAlive);
  };
  patched = true;
}

/** Patches the parser class from the first socket undici sets one up on. */
function patchFrom(socket: Socket): void {
  if (patched) return;
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'parser');
  const parser = key && (socket as unknown as Record<symbol, H1Parser | null>)[key];
  if (!parser) { socket.destroy(new Error('undici HTTP/1 parser not found: live/proxy/upstream-parser.ts must be updated')); return; }
  patchParser(Object.getPrototypeOf(parser) as H1Parser);
}

/**
 * undici's own connector, plus: until the parser class is patched, each new socket patches
 * it before its first byte is parsed (undici attaches its parser and 'readable' listener
 * after this callback; a listener added now runs first).
 */
export function patchedConnector(timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs });
  return (options, callback) => connect(options, (...args) => {
    const socket = args[1];
    if (socket && !patched) socket.once('readable', () => patchFrom(socket));
    callback(...args);
  });
}
