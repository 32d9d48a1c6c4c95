// Request lines that name another protocol (issue 14, finding 4). llhttp, Node's parser,
// also speaks RTSP and Icecast: `OPTIONS /x RTSP/1.0` or `SOURCE /x ICE/1.0` parse as HTTP
// requests with version 1.0, and Node tells the handler nothing about the protocol name, so
// the proxy would forward them as HTTP/1.1 (HAProxy answers 400). The bytes are therefore
// looked at before Node parses them: a chunk with a line `METHOD TARGET RTSP/x.y` or
// `... ICE/x.y` is refused with 400 `bad_protocol` and the connection closed.
// The cost: Node's parser then reads the socket through a JS 'data' listener instead of
// straight from C++, and each chunk gets two native byte searches (rarely a line check).
// A request body that itself contains such a line at a line start is refused too: the proxy
// cannot tell it from a pipelined request without parsing the framing a second time.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { BAD_PROTOCOL } from './responses.ts';

const FOREIGN = [Buffer.from(' RTSP/'), Buffer.from(' ICE/')];
/** A request line: method, one target, the foreign protocol and its version, at a line start. */
const FOREIGN_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \S+ (?:RTSP|ICE)\/\d\.\d\r?$/;
/** A line split across reads is checked whole: the unfinished tail of the last chunk is kept, up to this many bytes. */
const MAX_TAIL_BYTES = 8 * 1024;

export function hasForeignRequestLine(chunk: Buffer): boolean {
  for (const needle of FOREIGN) {
    for (let at = chunk.indexOf(needle); at >= 0; at = chunk.indexOf(needle, at + 1)) {
      const start = chunk.lastIndexOf(10, at) + 1;
      const end = chunk.indexOf(10, at);
      if (FOREIGN_LINE.test(chunk.toString('latin1', start, end < 0 ? chunk.length : end))) return true;
    }
  }
  return false;
}

interface NodeParser { socket: Socket | null; execute(chunk: Buffer): unknown; [kGuarded]?: true }
const kGuarded = Symbol('fulcrum.protocolGuard');
/** Per connection: the previous chunk's bytes after its last LF. */
const tails = new WeakMap<Socket, Buffer>();

/**
 * Wraps the execute() of each connection's Node parser (parsers are pooled: each is wrapped
 * once). An Error returned from execute() takes Node's own path for parse errors: the
 * server's clientError handler answers and closes (responses.ts).
 */
export function guardProtocol(server: Server): void {
  server.on('connection', (socket: Socket) => {
    const parser = (socket as Socket & { parser?: NodeParser }).parser;
    if (!parser) return;
    // A 'data' listener makes Node feed the parser from JS (execute) rather than from C++.
    socket.on('data', feedsParserFromJs);
    if (parser[kGuarded]) return;
    parser[kGuarded] = true;
    const execute = parser.execute;
    parser.execute = function (this: NodeParser, chunk: Buffer) {
      const owner = this.socket;
      if (!owner) return execute.call(this, chunk);
      const tail = tails.get(owner);
      const seen = tail ? Buffer.concat([tail, chunk]) : chunk;
      const lastLf = seen.lastIndexOf(10);
      if (lastLf === seen.length - 1) tails.delete(owner);
      else tails.set(owner, seen.subarray(Math.max(lastLf + 1, seen.length - MAX_TAIL_BYTES)));
      if (hasForeignRequestLine(seen)) return Object.assign(new Error('request line names a protocol other than HTTP'), { code: BAD_PROTOCOL });
      return execute.call(this, chunk);
    };
  });
}

/** Upgraded sockets leave Node's parser: the guard's listener goes too (the tunnel pipes the socket itself). */
export function unguard(socket: Socket): void {
  socket.removeListener('data', feedsParserFromJs);
}

function feedsParserFromJs(): void {}
