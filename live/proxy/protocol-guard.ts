// Request lines that name another protocol (issue 14, finding 4). llhttp, Node's parser,
// also speaks RTSP and Icecast: `OPTIONS /x RTSP/1.0` or `SOURCE /x ICE/1.0` parse as HTTP
// requests (version 1.0 or 1.1), and Node tells the handler nothing about the protocol
// name, so the proxy would forward them as HTTP/1.1 (HAProxy answers 400). The check sits
// in Node's headers-complete callback, before the request exists: it looks at the bytes
// being parsed for this request's target followed by ` RTSP/` or ` ICE/`, and fails the
// parse, so the server's clientError handler answers 400 `bad_protocol` and closes.
// Cheap on purpose (the parser keeps reading sockets from C++; a copy of the current read
// and a string search per request). Its limit: a request line in an earlier read than
// the end of its head is not seen, and such a request is forwarded as HTTP/1.1, which
// gains a client nothing it could not get by sending HTTP/1.1.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

interface NodeParser {
  socket: Socket | null;
  getCurrentBuffer(): Buffer;
  [index: number]: (...args: unknown[]) => unknown;
  [kGuarded]?: true;
}
const kGuarded = Symbol('fulcrum.protocolGuard');
const FOREIGN = [' RTSP/', ' ICE/'];

/** Connections refused for a non-HTTP request line (read by the clientError handler). */
const refusedProtocol = new WeakSet<Socket>();
export function refusedForProtocol(socket: Socket): boolean { return refusedProtocol.has(socket); }

/** Whether `bytes` hold the request line `METHOD <url> RTSP/…` or `… ICE/…`. */
export function namesForeignProtocol(bytes: Buffer, url: string): boolean {
  const text = bytes.toString('latin1'); // one copy, then the JIT's string search: a third of two Buffer#indexOf calls
  for (const protocol of FOREIGN) {
    if (text.includes(protocol) && text.includes(` ${url}${protocol}`)) return true;
  }
  return false;
}

/** Wraps the headers-complete callback of each connection's parser (Node pools parsers: each is wrapped once). */
export function guardProtocol(server: Server): void {
  server.on('connection', (socket: Socket) => {
    const parser = (socket as Socket & { parser?: NodeParser }).parser;
    if (!parser || parser[kGuarded]) return;
    parser[kGuarded] = true;
    const index = (parser.constructor as unknown as { kOnHeadersComplete: number }).kOnHeadersComplete;
    const headersComplete = parser[index];
    parser[index] = function (this: NodeParser, ...args: unknown[]) {
      const url = args[4]; // (versionMajor, versionMinor, headers, method, url, ...)
      if (typeof url === 'string' && url.length > 0 && namesForeignProtocol(this.getCurrentBuffer(), url)) {
        if (this.socket) refusedProtocol.add(this.socket);
        return -1; // llhttp: HPE_CB_HEADERS_COMPLETE, reported to the server's clientError handler
      }
      return headersComplete.apply(this, args);
    };
  });
}
