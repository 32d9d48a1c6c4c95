import { readFileSync } from 'node:fs';
function stats(file: string) {
  const [h, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const c = h.split(',');
  const lat = rows.map((r) => Number(r.split(',')[c.indexOf('latencyMs')])).sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { n: lat.length, mean: lat.reduce((a, b) => a + b, 0) / lat.length, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}
for (const f of process.argv.slice(2)) console.log(f, stats(f));
