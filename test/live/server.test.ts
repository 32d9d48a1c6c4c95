// The backend replica on its own: endpoints, FIFO service under a concurrency limit with
// seeded service times, fault modes (heartbeats included) and the guarded control endpoint.
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type Replica, type ReplicaOptions, sleepNear, startReplica } from '../../server/replica.ts';
import { raw, send } from './helpers.ts';

const open: Replica[] = [];
afterAll(async () => { await Promise.all(open.map((r) => r.close())); });

async function replica(o: Partial<ReplicaOptions> = {}): Promise<Replica> {
  const r = await startReplica({ id: 's1', controlToken: 'tok', ...o });
  open.push(r);
  return r;
}

async function control(r: Replica, body: unknown, token = 'tok') {
  const res = await send(`${r.url}/__control`, {
    method: 'PUT', body: JSON.stringify(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  return res;
}

describe('replica', () => {
  it('answers /home like the original project, /heartbeat, and echoes anything else', async () => {
    const r = await replica();
    expect(JSON.parse((await send(`${r.url}/home`)).text)).toEqual({ server: 's1', message: 'Hello from Server: s1', status: 'successful' });
    expect((await send(`${r.url}/heartbeat`)).status).toBe(200);
    const echo = JSON.parse((await send(`${r.url}/a/b?c=1`, { method: 'DELETE', headers: { 'x-request-id': 'r1' } })).text);
    expect(echo).toMatchObject({ server: 's1', method: 'DELETE', path: '/a/b?c=1', requestId: 'r1', bytesReceived: 0 });
  });

  it('serves FIFO under its concurrency limit, each request taking its service time', async () => {
    const r = await replica({ concurrency: 1, serviceTime: { dist: 'constant', value: 80 } });
    const t0 = performance.now();
    const finished: number[] = [];
    await Promise.all([0, 1, 2].map(async (i) => {
      await new Promise((res) => setTimeout(res, i * 5)); // arrival order 0, 1, 2
      await send(`${r.url}/home`);
      finished.push(i);
    }));
    expect(finished).toEqual([0, 1, 2]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 80 - 5);
  });

  it('draws service times from the seeded stream: same seed, same sequence, reported in Server-Timing', async () => {
    const times = async (seed: number) => {
      const r = await replica({ seed, serviceTime: { dist: 'exponential', mean: 15 }, concurrency: 1 });
      const out: Array<{ drawn: number; ms: number }> = [];
      for (let i = 0; i < 6; i++) {
        const reply = await send(`${r.url}/home`);
        const timing = /^queue;dur=([\d.]+), service;dur=([\d.]+)$/.exec(String(reply.headers['server-timing']));
        expect(timing, String(reply.headers['server-timing'])).not.toBeNull();
        out.push({ drawn: Number(timing![2]), ms: reply.ms });
      }
      return out;
    };
    const [a, b, c] = [await times(11), await times(11), await times(12)];
    expect(b.map((t) => t.drawn)).toEqual(a.map((t) => t.drawn));
    expect(c.map((t) => t.drawn)).not.toEqual(a.map((t) => t.drawn));
    // The header reports the sleep that really happened: the client waited at least that long.
    for (const t of [...a, ...b, ...c]) expect(t.ms).toBeGreaterThanOrEqual(t.drawn - 1);
  });

  it('a zero service time takes no timer: it ends before a 0 ms timer set earlier', async () => {
    let timerRan = false;
    setTimeout(() => { timerRan = true; }, 0);
    await sleepNear(0);
    expect(timerRan).toBe(false);
    await sleepNear(2);
    expect(timerRan).toBe(true);
  });

  it('fault modes: error (heartbeat too), slow, reset, hang (heartbeat too), normal again', async () => {
    const r = await replica({ serviceTime: { dist: 'constant', value: 20 } });
    expect((await control(r, { mode: 'error', status: 503 })).status).toBe(200);
    expect((await send(`${r.url}/home`)).status).toBe(503);
    expect((await send(`${r.url}/heartbeat`)).status).toBe(503);

    await control(r, { mode: 'slow', factor: 5 });
    expect((await send(`${r.url}/home`)).ms).toBeGreaterThanOrEqual(95);
    expect((await send(`${r.url}/heartbeat`)).status).toBe(200);

    await control(r, { mode: 'reset' });
    await expect(send(`${r.url}/home`)).rejects.toThrow();

    await control(r, { mode: 'hang' });
    const port = Number(new URL(r.url).port);
    for (const path of ['/home', '/heartbeat']) {
      const t0 = Date.now();
      const res = await raw(port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, 300);
      expect(res.status).toBe(0); // nothing came back before we gave up
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    }
    await control(r, { mode: 'normal' });
    expect((await send(`${r.url}/home`)).status).toBe(200);
  });

  it('control endpoint: token required, invalid modes refused with the path', async () => {
    const r = await replica();
    expect((await send(`${r.url}/__control`)).status).toBe(401);
    expect((await control(r, { mode: 'hang' }, 'wrong')).status).toBe(403);
    const bad = await control(r, { mode: 'error', probability: 2 });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).errors[0].path).toBe('/probability');
    const off = await replica({ controlToken: undefined, id: 's2' });
    const echoed = JSON.parse((await send(`${off.url}/__control`, { method: 'PUT', body: '{"mode":"hang"}' })).text);
    expect(echoed).toMatchObject({ method: 'PUT', path: '/__control' }); // no token configured: just another echoed path
  });

  it('a hung request does not keep close() waiting', async () => {
    const r = await startReplica({ id: 's3', controlToken: 'tok' });
    await control(r, { mode: 'hang' });
    const socket = connect(Number(new URL(r.url).port), '127.0.0.1', () => socket.write('GET /home HTTP/1.1\r\nHost: a\r\n\r\n'));
    socket.on('error', () => {});
    await new Promise((res) => setTimeout(res, 50));
    const t0 = Date.now();
    await r.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});
