// `npm run trace -- generate`: a synthetic NGINX access log in the documented log_format
// (nginx.ts), seeded and deterministic — for tests, for the 1 M-line memory check, and as an
// example of what `import` reads. Poisson arrivals; clients with Zipf-like popularity; a
// handful of paths, each with its own exponential service time; lines written in the order
// requests end, as NGINX writes them.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { rngStream } from '../../core/rng.ts';
import { MONTHS } from './http-date.ts';

export interface GenerateOptions {
  output: string;
  lines: number;
  seed: number;
  ratePerSec: number;
}

const PATHS: Array<[string, number]> = [['/', 2], ['/api/items', 5], ['/api/items/42', 3], ['/api/search?q=x', 20], ['/static/app.js', 0.5], ['/api/cart', 8]];
const START_MS = Date.UTC(2026, 11, 5, 12, 0, 0);

export async function generateNginxLog(o: GenerateOptions): Promise<void> {
  const rng = rngStream(o.seed, 'trace/generate');
  const file = createWriteStream(o.output);
  // Requests in flight, ended in order of their end time: a small sorted list is enough
  // (its length is about rate × service time).
  let pending: Array<{ endMs: number; text: string }> = [];
  let atMs = START_MS;
  const flushUntil = async (ms: number) => {
    let i = 0;
    while (i < pending.length && pending[i].endMs <= ms) {
      if (!file.write(pending[i].text)) await once(file, 'drain');
      i++;
    }
    pending = pending.slice(i);
  };
  for (let n = 0; n < o.lines; n++) {
    atMs += (-1000 / o.ratePerSec) * Math.log(1 - rng());
    const client = Math.min(999, Math.floor(1 / (0.001 + rng()))); // rank ~ 1/u: a few heavy clients
    const [path, meanMs] = PATHS[Math.floor(rng() * PATHS.length)];
    const upstreamMs = Math.round(-meanMs * Math.log(1 - rng()) * 1000) / 1000;
    const endMs = Math.round(atMs + upstreamMs + 0.4);
    pending.splice(sortedIndex(pending, endMs), 0, { endMs, text: nginxLine(`10.${client >> 8}.${client & 255}.7`, path, endMs, endMs - atMs, upstreamMs) });
    await flushUntil(atMs);
  }
  await flushUntil(Infinity);
  file.end();
  await finished(file);
}

function sortedIndex(list: Array<{ endMs: number }>, endMs: number): number {
  let i = list.length;
  while (i > 0 && list[i - 1].endMs > endMs) i--;
  return i;
}

function nginxLine(client: string, path: string, endMs: number, requestMs: number, upstreamMs: number): string {
  const d = new Date(endMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  const local = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  const sec = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);
  return `${client} - - [${local}] "GET ${path} HTTP/1.1" 200 512 "-" "loadgen/1.0" ${sec(requestMs)} ${sec(upstreamMs)} 10.0.0.${2 + (endMs % 3)}:8080 ${(endMs / 1000).toFixed(3)}\n`;
}
