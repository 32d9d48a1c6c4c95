// `npm run bench [core|sim|proxy ...]`: runs each bench module in a process of its own (so
// one module's JIT and heap state cannot slow another), prints markdown tables and, for a
// full run, writes them to bench/results.md (docs/performance.md links it).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { didYouMean } from '../core/did-you-mean.ts';
import type { BenchTable } from './types.ts';

const MODULES = ['core', 'sim', 'cli', 'proxy', 'trace'] as const;

function markdown(t: BenchTable): string {
  const lines = [`### ${t.title}`, '', `| ${t.columns.join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`];
  for (const row of t.rows) lines.push(`| ${row.join(' | ')} |`);
  for (const note of t.notes ?? []) lines.push('', note);
  return lines.join('\n');
}

const USAGE = `usage: npm run bench -- [core] [sim] [cli] [proxy] [trace]

  core    routing-core picks per second, per policy (tinybench)
  sim     simulator events per second on fixed experiments
  cli     npm run sim start-up (bundle vs tsx) and a 6-point sweep with --jobs 1 and 2
  proxy   proxy overhead: autocannon through the proxy vs straight to one replica (a ratio)
  trace   trace parsing: lines per second per format, live heap while 1 M lines stream
  none    all five, and bench/results.md is rewritten (docs/performance.md links it)
  --help  this text

Numbers are ratios and rates on this machine; run on an idle machine (nothing else busy).`;

const [mode, only] = process.argv.slice(2);
if (mode === '--help' || mode === '-h') {
  process.stdout.write(`${USAGE}\n`);
} else if (mode === '--one') {
  // Child: run one module, hand its table back as JSON on stdout's last line.
  const mod = (await import(`./${only}.ts`)) as { default: () => Promise<BenchTable> };
  process.stdout.write(`\n${JSON.stringify(await mod.default())}\n`);
} else {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(MODULES as readonly string[]).includes(w));
  if (unknown.length) {
    console.error(`unknown bench ${unknown.join(', ')}; choose from ${MODULES.join(', ')}${didYouMean(unknown[0], MODULES)} (npm run bench -- --help)`);
    process.exit(2);
  }
  const chosen = wanted.length ? MODULES.filter((m) => wanted.includes(m)) : [...MODULES];
  const cpu = os.cpus();
  const sections = [`Measured on ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`];
  for (const name of chosen) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', name], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024,
    });
    const text = markdown(JSON.parse(out.trim().split('\n').at(-1)!) as BenchTable);
    console.log(`\n${text}\n`);
    sections.push(text);
  }
  if (!wanted.length) writeFileSync(new URL('./results.md', import.meta.url), `${sections.join('\n\n')}\n`);
}
