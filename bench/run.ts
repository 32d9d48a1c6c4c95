// `npm run bench [core|sim|proxy ...]`: runs the bench modules in one process each,
// prints markdown tables and writes them to bench/results.md for the README.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchTable } from './types.ts';

const MODULES = ['core', 'sim', 'proxy'] as const;

function markdown(t: BenchTable): string {
  const lines = [`### ${t.title}`, '', `| ${t.columns.join(' | ')} |`, `|${t.columns.map(() => '---').join('|')}|`];
  for (const row of t.rows) lines.push(`| ${row.join(' | ')} |`);
  for (const note of t.notes ?? []) lines.push('', note);
  return lines.join('\n');
}

const wanted = process.argv.slice(2);
const chosen = wanted.length ? MODULES.filter((m) => wanted.includes(m)) : [...MODULES];
const unknown = wanted.filter((w) => !(MODULES as readonly string[]).includes(w));
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(', ')}; choose from ${MODULES.join(', ')}`);
  process.exit(2);
}

const header = `Measured on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`;
const sections = [header];
for (const name of chosen) {
  const mod = (await import(`./${name}.ts`)) as { default: () => Promise<BenchTable> };
  const table = await mod.default();
  const text = markdown(table);
  console.log(`\n${text}\n`);
  sections.push(text);
}
if (!wanted.length) writeFileSync(new URL('./results.md', import.meta.url), `${sections.join('\n\n')}\n`);
