import { csvRows } from '../experiments/trace/read.ts';
let n = 0; let last;
for (const r of csvRows('experiments/traces/a9-round-robin.csv')) { n++; last = r; }
console.log(n, last);
