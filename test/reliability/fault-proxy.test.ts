// The fault proxy's toxics on a plain TCP server that sends 20 000 bytes per connection.
import { type AddressInfo, type Server, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

const PAYLOAD = Buffer.alloc(20_000, 7);
let target: Server;
let fp: FaultProxy;

beforeAll(async () => {
  target = createServer((s) => { s.on('error', () => {}); s.end(PAYLOAD); });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  fp = await startFaultProxy({ port: (target.address() as AddressInfo).port });
});
afterAll(async () => {
  await fp.close();
  await new Promise((r) => target.close(r));
});

/**
 * Reads one connection to the end: bytes, how it ended, and how long it took. Linux may
 * report a reset that follows the data as a plain end of stream, so after the end the
 * socket writes a probe: on a reset connection that write fails.
 */
function fetchAll(): Promise<{ bytes: number; end: 'fin' | string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let bytes = 0;
    let end = 'fin';
    const s = connect({ port: fp.port, host: '127.0.0.1', allowHalfOpen: true });
    s.on('data', (d) => { bytes += d.length; });
    s.on('end', () => { setTimeout(() => s.write('probe', () => s.end()), 20); });
    s.on('error', (e: NodeJS.ErrnoException) => { if (end === 'fin') end = e.code ?? e.message; });
    s.on('close', () => resolve({ bytes, end, ms: performance.now() - t0 }));
  });
}

describe('fault proxy', () => {
  it('passes bytes through untouched by default', async () => {
    fp.toxics = {};
    expect(await fetchAll()).toMatchObject({ bytes: 20_000, end: 'fin' });
  });

  it('limit_data: forwards exactly N bytes, then closes cleanly', async () => {
    fp.toxics = { limitDataBytes: 1_234 };
    expect(await fetchAll()).toMatchObject({ bytes: 1_234, end: 'fin' });
  });

  it('reset_peer: sends a TCP RST after N bytes, or at once', async () => {
    fp.toxics = { resetAfterBytes: 5_000 };
    const r = await fetchAll();
    expect(r.end).toMatch(/ECONNRESET|EPIPE/);
    expect(r.bytes).toBeLessThanOrEqual(5_000);
    fp.toxics = { resetAfterBytes: 0 };
    const atOnce = await fetchAll();
    expect(atOnce.bytes).toBe(0);
    expect(atOnce.end).toMatch(/ECONNRESET|EPIPE/);
  });

  it('latency and bandwidth delay the bytes (lower bounds only), and switch at run time', async () => {
    fp.toxics = { latencyMs: 150 };
    expect((await fetchAll()).ms).toBeGreaterThanOrEqual(140);
    fp.toxics = { bandwidthBytesPerSec: 50_000 }; // 20 000 bytes ≥ 0.4 s minus the first chunk's share
    const slow = await fetchAll();
    expect(slow).toMatchObject({ bytes: 20_000, end: 'fin' });
    expect(slow.ms).toBeGreaterThanOrEqual(100);
    fp.toxics = {};
    expect(await fetchAll()).toMatchObject({ bytes: 20_000 });
  });

  it('down: closes new connections at once', async () => {
    const before = fp.connections;
    fp.toxics = { down: true };
    expect((await fetchAll()).bytes).toBe(0);
    expect(fp.connections).toBe(before + 1);
  });
});
