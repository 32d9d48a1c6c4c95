// The four-proxy comparison (issue 17) as one model and two renderings: reports/proxies.md
// (what a reader opens on GitHub) and a section of reports/index.html. Built from the
// experiments' report.json files; a question whose experiment, or a proxy with no results,
// still renders, saying what is missing and the command that fills it.
import { PROXY_NAMES, type ProxyName } from '../experiments/proxies.ts';
import type { Check, CheckName, CompareRun } from './comparison.ts';
import { formatNumber } from './format.ts';
import { escapeHtml } from './html.ts';
import { PROXY_LABELS, proxyFlag } from './proxies.ts';
import { QUESTIONS, type Question, byVariant, sameBalance } from './questions.ts';
import { sortNatural } from './sort.ts';
import { FAILED_TOLERANCE_PCT, LATENCY_MEAN_TOLERANCE_PCT } from './tolerance.ts';

export const COMPARISON_FILE = 'proxies.md';

/** What the page reads of one experiment's report.json; absent when it has no report. */
export interface ComparisonInput {
  question: string;
  runs: CompareRun[];
}

export interface QuestionBlock {
  id: string;
  title: string;
  experiment: string;
  question: string | null;
  answer: string[];
  head: string[];
  rows: string[][];
  /** One line on the agreed tolerances over every run measured; '' when nothing was. */
  tolerance: string;
  /** One line per proxy without a prediction or a measurement, with the command that makes it. */
  missing: string[];
}

const CHECK_WORDS: Record<CheckName, string> = { counts: 'counts', failed: 'failed', 'latency mean': 'mean' };

function checkText(c: Check): string {
  const rel = c.tolerance === 'exact' ? 'exact' : c.relErrorPct === null ? 'sim 0' : `${c.relErrorPct > 0 ? '+' : ''}${formatNumber(c.relErrorPct, 1)} %`;
  return `${CHECK_WORDS[c.check]} ${c.tolerance === 'exact' && !c.within ? 'differ' : rel} ${c.within ? '✓' : '✗'}`;
}

function verdict(r: CompareRun, q: Question): string {
  if (!r.live) return 'predicted only';
  if (!r.sim) return 'measured only';
  const shown = q.checks.flatMap((name) => r.checks.filter((c) => c.check === name));
  return shown.length ? shown.map(checkText).join(' · ') : '—';
}

function toleranceLine(runs: readonly CompareRun[], q: Question): string {
  const checks = runs.flatMap((r) => q.checks.flatMap((name) => r.checks.filter((c) => c.check === name).map((c) => ({ r, c }))));
  if (checks.length === 0) return '';
  const outside = checks.filter(({ c }) => !c.within);
  const list = outside.map(({ r, c }) => `${PROXY_LABELS[r.proxy]} \`${r.run}\` ${checkText(c)}`);
  return `Within the agreed tolerance: ${checks.length - outside.length} of ${checks.length} checks${outside.length ? `; outside: ${list.join('; ')}` : ''}.`;
}

function missingLines(experiment: string, runs: readonly CompareRun[]): string[] {
  const file = `experiments/${experiment}.json`;
  return PROXY_NAMES.flatMap((p: ProxyName): string[] => {
    const mine = runs.filter((r) => r.proxy === p);
    const flag = proxyFlag(p);
    if (mine.length === 0) return [`${PROXY_LABELS[p]}: no results yet (\`npm run sim ${file}${flag}\`, then \`npm run live ${file}${flag}\`).`];
    if (mine.every((r) => r.live === null)) return [`${PROXY_LABELS[p]}: predicted only (measure with \`npm run live ${file}${flag}\`).`];
    if (mine.every((r) => r.sim === null)) return [`${PROXY_LABELS[p]}: measured only (predict with \`npm run sim ${file}${flag}\`).`];
    // Variants another proxy ran: this one could not express them, or they were not run yet.
    const absent = [...new Set(runs.map((r) => r.run))].filter((run) => !mine.some((r) => r.run === run));
    return absent.length ? [`${PROXY_LABELS[p]}: no ${absent.map((a) => `\`${a}\``).join(', ')} run (\`npm run export ${file} -- --to ${p}\` names any setting it cannot express).`] : [];
  });
}

export function questionBlock(q: Question, input: ComparisonInput | undefined): QuestionBlock {
  const runs = input?.runs ?? [];
  const servers = sortNatural(new Set(runs.flatMap((r) => [...(r.sim?.servers ?? []), ...(r.live?.servers ?? [])].map(([s]) => s))));
  const columns = q.columns(servers);
  const head = ['variant', 'proxy', ...columns.flatMap((c) => [`${c.head} predicted`, `${c.head} measured`]), 'within tolerance'];
  const rows = byVariant(runs).flatMap(([, rs]) => rs.map((r) => [
    `\`${r.run}\``, `${PROXY_LABELS[r.proxy]}${r.balance ? ` \`${r.balance}\`` : ''}`,
    ...columns.flatMap((c) => [r.sim ? c.cell(r.sim, servers) : '—', r.live ? c.cell(r.live, servers) : '—']),
    verdict(r, q),
  ]));
  return {
    id: q.id, title: q.title, experiment: q.experiment, question: input?.question ?? null,
    answer: runs.length ? [...q.answer(runs), ...sameBalance(runs)] : [], head, rows, tolerance: toleranceLine(runs, q), missing: missingLines(q.experiment, runs),
  };
}

export function comparisonBlocks(inputs: ReadonlyMap<string, ComparisonInput>): QuestionBlock[] {
  return QUESTIONS.map((q) => questionBlock(q, inputs.get(q.experiment)));
}

const TOLERANCES = `per-server counts exactly equal for a deterministic policy on a run without failures or retries, failed requests within ±${FAILED_TOLERANCE_PCT} %, mean latency within ±${LATENCY_MEAN_TOLERANCE_PCT} %`;

const INTRO = [
  'Each question is one experiment file, asked of every proxy: *predicted* is the simulator running that proxy\'s model '
  + '(`npm run sim FILE -- --proxy NAME`), *measured* is the real proxy in its own process (`npm run live FILE -- --proxy NAME`); '
  + 'Fulcrum\'s own proxy needs no flag. Numbers in the answers are measurements where there is one, else predictions (marked).',
  `Agreed tolerances: ${TOLERANCES}. ✓ within, ✗ outside; — where none applies.`,
];

// ---- Markdown --------------------------------------------------------------------------

const mdCell = (s: string): string => s.replace(/\|/g, '\\|');

function blockMarkdown(b: QuestionBlock): string {
  const lines = [`## ${b.id} — ${b.title}`, ''];
  lines.push(b.question ? `*${b.question}* ([${b.experiment} report](${b.experiment}/index.html), \`experiments/${b.experiment}.json\`)` : `No report for \`${b.experiment}\` yet.`, '');
  if (b.answer.length) lines.push(...b.answer.map((a) => `- ${a}`), '');
  if (b.rows.length) {
    lines.push(`| ${b.head.map(mdCell).join(' | ')} |`, `|${b.head.map((_, i) => (i < 2 || i === b.head.length - 1 ? '---' : '---:')).join('|')}|`);
    lines.push(...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`), '');
  }
  if (b.tolerance) lines.push(b.tolerance, '');
  if (b.missing.length) lines.push(...b.missing.map((m) => `- ${m}`), '');
  return lines.join('\n');
}

export function comparisonMarkdown(blocks: readonly QuestionBlock[]): string {
  return `${[
    '# Four proxies, three questions',
    '',
    '<!-- Generated by `npm run report` from reports/<experiment>/report.json: do not edit. -->',
    '',
    ...INTRO.flatMap((p) => [p, '']),
    ...blocks.map(blockMarkdown),
  ].join('\n').trimEnd()}\n`;
}

// ---- HTML ------------------------------------------------------------------------------

/** Escaped, with `code` spans and *emphasis* as the Markdown page has them. */
function inline(s: string): string {
  return escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*([^*]+)\*/g, '<em>$1</em>');
}

function blockHtml(b: QuestionBlock): string {
  const question = b.question
    ? `<p><em>${escapeHtml(b.question)}</em> (<a href="${escapeHtml(b.experiment)}/index.html">${escapeHtml(b.experiment)} report</a>)</p>`
    : `<p class="missing-note">No report for <code>${escapeHtml(b.experiment)}</code> yet.</p>`;
  const answer = b.answer.length ? `<ul class="answer">${b.answer.map((a) => `<li>${inline(a)}</li>`).join('')}</ul>` : '';
  const table = b.rows.length
    ? `<div class="wide"><table class="proxies"><thead><tr>${b.head.map((h, i) => `<th${i < 2 || i === b.head.length - 1 ? ' class="l"' : ''}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${b.rows.map((r) => `<tr${r[r.length - 1].includes('✗') ? ' class="far"' : ''}>${r.map((c, i) => `<td${i < 2 || i === r.length - 1 ? ' class="l"' : ''}>${inline(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div>`
    : '';
  const tolerance = b.tolerance ? `<p>${inline(b.tolerance)}</p>` : '';
  const missing = b.missing.length ? `<ul class="missing-note">${b.missing.map((m) => `<li>${inline(m)}</li>`).join('')}</ul>` : '';
  return [`<h3>${escapeHtml(b.id)} — ${escapeHtml(b.title)}</h3>`, question, answer, table, tolerance, missing].filter(Boolean).join('\n');
}

/** The index's section: the same blocks, linking the Markdown page. */
export function comparisonHtml(blocks: readonly QuestionBlock[]): string {
  return `<section id="four-proxies"><h2>Four proxies, three questions</h2>
${INTRO.map((p) => `<p>${inline(p)}</p>`).join('\n')}
<p>The same page in Markdown: <a href="${COMPARISON_FILE}">${COMPARISON_FILE}</a>.</p>
${blocks.map(blockHtml).join('\n')}
</section>`;
}
