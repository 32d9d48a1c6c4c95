import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

/** Polls `url` until it answers 2xx or the time runs out. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await request(url, { headersTimeout: 500, bodyTimeout: 500 });
      await res.body.dump();
      if (res.statusCode < 300) return;
      last = `status ${res.statusCode}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(25);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}
