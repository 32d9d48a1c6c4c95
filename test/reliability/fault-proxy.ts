// A small user-space TCP proxy that injects network faults between the Fulcrum proxy and
// one replica: what signals cannot do. Toxiproxy's toxics, re-implemented with node:net
// (its binary is not installable here): latency, bandwidth, reset_peer and limit_data on
// the downstream stream (replica → proxy), plus refusing new connections. The toxics are
// read on every chunk, so switching them at run time also affects open connections.
import { type AddressInfo, type Server, type Socket, createConnection, createServer } from 'node:net';

export interface Toxics {
  /** Delay added to every downstream chunk. */
  latencyMs?: number;
  /** Downstream rate limit (bytes per second). */
  bandwidthBytesPerSec?: number;
  /** Send a TCP RST after this many downstream bytes on a connection (0 = on connect, before any byte). */
  resetAfterBytes?: number;
  /** Forward this many downstream bytes on a connection, then close it cleanly (FIN). */
  limitDataBytes?: number;
  /** Close new connections at once (the replica looks down although its process lives). */
  down?: boolean;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  toxics: Toxics;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host?: string; port: number }, toxics: Toxics = {}): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const state = { toxics };
  const server: Server = createServer((client) => {
    connections++;
    const t = state.toxics;
    if (t.down) { client.destroy(); return; }
    if (t.resetAfterBytes === 0) { client.resetAndDestroy(); return; }
    const upstream = createConnection({ host: target.host ?? '127.0.0.1', port: target.port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    // Either side closing ends the pair the way it ended: a reset stays a reset.
    client.on('close', (hadError) => { if (upstream.destroyed) return; if (hadError) upstream.resetAndDestroy(); else upstream.destroy(); });
    upstream.on('close', (hadError) => { if (hadError && !client.destroyed) client.resetAndDestroy(); else downstream.finish(); });
    client.pipe(upstream);
    const downstream = new Downstream(client, state);
    upstream.on('data', (chunk: Buffer) => downstream.push(chunk, upstream));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get toxics() { return state.toxics; },
    set toxics(t: Toxics) { state.toxics = t; },
    get connections() { return connections; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Replica → proxy bytes of one connection, passed on in order after the latency and at the
 * bandwidth in force, cut short by reset or data limits.
 */
class Downstream {
  private sent = 0;
  private nextSendAtMs = 0;
  private queue = Promise.resolve();
  private cut = false;

  constructor(private readonly client: Socket, private readonly state: { toxics: Toxics }) {}

  push(chunk: Buffer, upstream: Socket): void {
    const arrivedMs = performance.now();
    this.queue = this.queue.then(() => this.forward(chunk, arrivedMs, upstream));
  }

  /** The replica closed cleanly: close the client after the queued bytes. */
  finish(): void {
    this.queue = this.queue.then(() => { if (!this.cut) this.client.end(); });
  }

  private async forward(chunk: Buffer, arrivedMs: number, upstream: Socket): Promise<void> {
    if (this.cut || this.client.destroyed) return;
    const t = this.state.toxics;
    const bandwidthMs = t.bandwidthBytesPerSec ? (chunk.length * 1000) / t.bandwidthBytesPerSec : 0;
    const sendAtMs = Math.max(arrivedMs + (t.latencyMs ?? 0), this.nextSendAtMs);
    this.nextSendAtMs = sendAtMs + bandwidthMs;
    const waitMs = this.nextSendAtMs - performance.now();
    if (waitMs > 1) await new Promise((r) => setTimeout(r, waitMs));
    if (this.client.destroyed) return;
    const limit = Math.min(t.resetAfterBytes ?? Infinity, t.limitDataBytes ?? Infinity);
    const allowed = Math.max(0, limit - this.sent);
    if (chunk.length <= allowed) {
      this.sent += chunk.length;
      this.client.write(chunk);
      return;
    }
    this.cut = true;
    upstream.destroy();
    const last = chunk.subarray(0, allowed);
    this.sent += last.length;
    if (t.resetAfterBytes !== undefined && this.sent >= t.resetAfterBytes) {
      this.client.write(last, () => this.client.resetAndDestroy());
    } else {
      this.client.end(last);
    }
  }
}
