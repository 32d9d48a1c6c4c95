// Trace reading: lines per second for each parser on a generated NGINX log (and its CSV
// import), and the live heap after GC while a 1 M-line log streams through, sampled every
// 100,000 lines in a child process of its own: flat means bounded memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateNginxLog } from '../experiments/trace/generate.ts';
import { importTrace } from '../experiments/trace/import.ts';
import { readTrace } from '../experiments/trace/read.ts';
import type { TraceFormat } from '../experiments/trace/record.ts';
import type { BenchTable } from './types.ts';

const LINES = 200_000;
const HEAP_LINES = 1_000_000;

if (process.argv[2] === '--heap') {
  // Child: stream the file, print the live heap after GC every 100,000 records as JSON.
  const gc = (globalThis as { gc?: () => void }).gc!;
  const samples: number[] = [];
  let n = 0;
  for (const _ of readTrace(process.argv[3], 'nginx')) if (++n % 100_000 === 0) { gc(); samples.push(process.memoryUsage().heapUsed); }
  process.stdout.write(`${JSON.stringify(samples)}\n`);
}

function linesPerSec(file: string, format: TraceFormat): number {
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    let n = 0;
    for (const _ of readTrace(file, format)) n++;
    best = Math.max(best, n / ((performance.now() - t) / 1000));
  }
  return best;
}

export default async function benchTrace(): Promise<BenchTable> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-trace-'));
  try {
    const log = join(dir, 'access.log');
    const csv = join(dir, 'trace.csv');
    await generateNginxLog({ output: log, lines: LINES, ratePerSec: 2000, seed: 1 });
    await importTrace({ input: log, format: 'nginx', output: csv, overheadMs: 0 });
    const nginx = linesPerSec(log, 'nginx');
    const plain = linesPerSec(csv, 'csv');
    const big = join(dir, 'big.log');
    await generateNginxLog({ output: big, lines: HEAP_LINES, ratePerSec: 2000, seed: 2 });
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--heap', big], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const heap = (JSON.parse(child.stdout.trim().split('\n').at(-1)!) as number[]).map((b) => b / 1e6);
    const k = (x: number) => (x / 1e3).toFixed(0);
    return {
      title: 'Trace reading: lines per second and memory',
      columns: ['measurement', 'lines', 'k lines/s', 'live heap MB (after GC)'],
      rows: [
        ['NGINX log (regex per line)', LINES, k(nginx), ''],
        ['plain CSV (csv-parse, streamed)', LINES, k(plain), ''],
        [`NGINX log streamed: heap at 100 k lines`, HEAP_LINES, '', heap[0].toFixed(1)],
        [`NGINX log streamed: largest heap, 100 k … 1 M lines`, HEAP_LINES, '', Math.max(...heap).toFixed(1)],
      ],
      notes: ['The heap holds the 65,536-line reorder window (experiments/trace/read.ts); it does not grow with the file.'],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
