import { readTrace } from '../experiments/trace/read.ts';
const gc = (globalThis as { gc?: () => void }).gc!;
const file = process.argv[2];
let n = 0; let maxHeap = 0;
const t = performance.now();
for (const _ of readTrace(file, process.argv[3] as 'nginx')) {
  if (++n % 100_000 === 0) { gc(); const h = process.memoryUsage().heapUsed; maxHeap = Math.max(maxHeap, h); console.log(n, (h / 1e6).toFixed(1), 'MB live heap'); }
}
console.log(file, n, 'records; max live heap after GC', (maxHeap / 1e6).toFixed(1), 'MB;', ((performance.now() - t) / 1000).toFixed(1), 's');
