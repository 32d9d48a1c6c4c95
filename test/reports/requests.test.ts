// requests.csv can hold millions of rows: it is streamed once into bounded aggregates.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRequests } from '../../reports/requests.ts';

const ROWS = 200_000;
const CLIENTS = 5_000;

describe('streaming requests.csv', () => {
  let dir = '';
  let path = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fulcrum-requests-'));
    path = join(dir, 'requests.csv');
    // Columns in another order than the engines write them: read by header name.
    const out = createWriteStream(path);
    out.write('servers,id,outcome,latencyMs,client,endMs,status,startMs,attempts\n');
    for (let i = 0; i < ROWS; i++) {
      const client = i % CLIENTS;
      const failed = i % 1000 === 999;
      const line = `${failed ? 's1|s2' : `s${(client % 3) + 1}`},${i},${failed ? 'error' : 'ok'},${(i % 100) + 1},${client},${i / 10},${failed ? 502 : 200},${i / 10 - 1},${failed ? 2 : 1}\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  });

  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it(`aggregates ${ROWS} rows: counts, attempts, buckets, percentiles`, async () => {
    const r = await readRequests(path, 1000);
    expect(r.count).toBe(ROWS);
    expect(r.failed).toBe(ROWS / 1000);
    expect([...r.attempts]).toEqual([[1, ROWS - ROWS / 1000], [2, ROWS / 1000]]);
    expect(r.buckets).toHaveLength(ROWS / 10 / 1000); // endMs = i / 10, 1 s buckets
    expect(r.buckets.every((b) => b.completed === 10_000)).toBe(true);
    expect(r.latency.quantileMs(0.5)).toBeCloseTo(50, 0);
    expect(r.latency.bucketsUsed).toBeLessThanOrEqual(100);
  });

  it('stickiness: each client always lands on the same server, except the retried first attempts', async () => {
    const r = await readRequests(path, 1000);
    expect(r.stickiness!.eligible).toBe(ROWS - CLIENTS);
    expect(r.stickiness!.clientsTracked).toBe(CLIENTS);
    expect(r.stickiness!.same / r.stickiness!.eligible).toBeGreaterThan(0.99);
  });

  it('stops tracking new clients past the cap instead of growing without bound', async () => {
    const r = await readRequests(path, 1000, 100);
    expect(r.stickiness!.clientsTracked).toBe(100);
    expect(r.stickiness!.clientsCapped).toBe(true);
    expect(r.stickiness!.eligible).toBe((ROWS / CLIENTS - 1) * 100);
  });
});

describe('keys moved', () => {
  it('counts clients seen more than once whose first attempts changed server (a hash ring gaining a server)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fulcrum-moved-'));
    const path = join(dir, 'requests.csv');
    const rows = [
      ['0', 's1'], ['1', 's1'], ['2', 's3'], ['3', 's2'], // before the join
      ['0', 's1'], ['1', 's4'], ['3', 's2'], // after: client 1 moved to the new s4; client 2 never came back
    ];
    const out = createWriteStream(path);
    out.write('id,client,startMs,endMs,latencyMs,status,outcome,attempts,servers\n');
    rows.forEach(([client, server], i) => out.write(`${i},${client},${i},${i + 1},1,200,ok,1,${server}\n`));
    out.end();
    await once(out, 'finish');
    const r = await readRequests(path, 1000);
    expect(r.stickiness).toMatchObject({ repeatClients: 3, movedClients: 1, same: 2, eligible: 3 });
    await rm(dir, { recursive: true, force: true });
  });
});
