// `npm run reliability:table [-- FILE]`: renders .build/reliability/summary.jsonl (written by
// the reliability scenarios) as the Markdown table in docs/reliability.md. The
// last line per scenario wins, so a re-run replaces older rows.
import { readFileSync } from 'node:fs';
import { SUMMARY_FILE } from './paths.ts';

interface SummaryLine {
  scenario: string; faults: string[]; requests: number; attempts: number; outcomes: Record<string, number>;
  invariants: Record<string, number>; violations: number; seconds: number;
}

const file = process.argv[2] ?? SUMMARY_FILE;
let text: string;
try { text = readFileSync(file, 'utf8'); } catch (err) {
  process.stderr.write(`reliability:table: ${(err as Error).message}\nrun the suite first: npx vitest run test/reliability\n`);
  process.exit(2);
}
const latest = new Map<string, SummaryLine>();
for (const line of text.split('\n')) if (line.trim()) { const s = JSON.parse(line) as SummaryLine; latest.set(s.scenario, s); }

const rows = [
  '| scenario | faults injected | requests | backend attempts | outcomes | invariants held |',
  '|---|---|--:|--:|---|---|',
];
for (const s of latest.values()) {
  const outcomes = Object.entries(s.outcomes).sort().map(([k, n]) => `${k}: ${n}`).join(', ');
  const held = Object.entries(s.invariants).filter(([, n]) => n === 0).map(([k]) => k);
  const broken = Object.entries(s.invariants).filter(([, n]) => n > 0).map(([k, n]) => `**${k}: ${n} violations**`);
  const invariants = held.length === Object.keys(s.invariants).length ? `all ${held.length} (${held[0]}–${held.at(-1)})` : [...broken, `held: ${held.join(' ')}`].join('; ');
  rows.push(`| ${s.scenario} | ${s.faults.join('; ')} | ${s.requests} | ${s.attempts} | ${outcomes} | ${invariants} |`);
}
process.stdout.write(rows.join('\n') + '\n');
