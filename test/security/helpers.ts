// Raw-socket tools for the bad-input and security suite: send exact bytes, read every
// answer on the connection, and tell "the server closed it" from "we gave up waiting".
import { type Socket, connect } from 'node:net';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { waitFor } from '../live/helpers.ts';

export interface Exchange {
  /** Status of every response on the connection, in order. */
  statuses: number[];
  /** Every x-fulcrum-error value, in order. */
  codes: string[];
  /** The server ended the connection (rather than our timeout). */
  closedByServer: boolean;
  text: string;
  ms: number;
}

/** HTTP/1.1 request text from its lines (request line first) and a body. */
export const req = (lines: string[], body = ''): string => lines.join('\r\n') + '\r\n\r\n' + body;

export function parseExchange(text: string): Pick<Exchange, 'statuses' | 'codes'> {
  return {
    statuses: [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])),
    codes: [...text.matchAll(/^x-fulcrum-error: (\S+)\r$/gim)].map((m) => m[1]),
  };
}

/**
 * Writes `payload` (or each piece of it, `gapMs` apart) on a fresh connection and collects
 * everything until the server closes it, or `timeoutMs` passes.
 */
export function exchange(port: number, payload: string | string[], o: { timeoutMs?: number; gapMs?: number; localAddress?: string } = {}): Promise<Exchange> {
  const t0 = performance.now();
  const pieces = Array.isArray(payload) ? payload : [payload];
  return new Promise((resolve) => {
    let text = '';
    let closedByServer = false;
    let writer: NodeJS.Timeout | undefined;
    const socket: Socket = connect({ port, host: '127.0.0.1', localAddress: o.localAddress }, () => {
      let i = 0;
      const writeNext = () => {
        if (socket.destroyed) return;
        socket.write(pieces[i++]);
        if (i < pieces.length) writer = setTimeout(writeNext, o.gapMs ?? 0);
      };
      writeNext();
    });
    const timer = setTimeout(() => socket.destroy(), o.timeoutMs ?? 5_000);
    socket.setEncoding('latin1').on('data', (d: string) => { text += d; });
    socket.on('end', () => { closedByServer = true; });
    socket.on('error', () => { closedByServer = true; }); // a reset is the server closing too
    socket.on('close', () => {
      clearTimeout(timer);
      clearTimeout(writer);
      resolve({ ...parseExchange(text), closedByServer, text, ms: performance.now() - t0 });
    });
  });
}

/** A replica's request log from `from` on, as `METHOD path` lines. */
export function seenSince(r: SpawnedReplica, from: number): string[] {
  return r.requests.slice(from).map((e) => `${e.method} ${e.path}`);
}

/** Waits until the replica has logged `path` (the sentinel that follows a case). */
export function waitForPath(r: SpawnedReplica, path: string): Promise<void> {
  return waitFor(`${r.id} to log ${path}`, () => r.requests.some((e) => e.path === path), 10_000);
}

/**
 * Rows for the README table ("attack, requests sent, expected answer, held"): a test adds
 * its row only after its assertions passed. With FULCRUM_SECURITY_TABLE=1 each file prints
 * its rows as markdown when it ends.
 */
const rows: Array<[string, number, string]> = [];
export function held(attack: string, requestsSent: number, expected: string): void { rows.push([attack, requestsSent, expected]); }
export function printHeldRows(): void {
  if (process.env.FULCRUM_SECURITY_TABLE !== '1') return;
  process.stdout.write(rows.map(([a, n, e]) => `| ${a} | ${n} | ${e} | yes |`).join('\n') + '\n');
}
