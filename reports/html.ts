// The HTML pages: one per experiment and an index. Self-contained and offline: charts are
// inlined SVG, tables are HTML, links point at the CSV, PNG and Vega-Lite files beside them.
// No timestamps or absolute paths, so equal inputs give equal pages.
import { FIDELITY_GUIDE_PCT } from './charts/fidelity.ts';
import type { Headline } from './answer.ts';
import type { FidelityRow, RunRow } from './derive.ts';
import type { Mode } from './model.ts';
import type { ChartDef, Section } from './plan.ts';
import type { ProxyName } from '../experiments/proxies.ts';
import type { ProxyCompareRow } from './compare.ts';
import { PROXY_LABELS, enginesWord, proxyFlag } from './proxies.ts';
import { FAILED_TOLERANCE_PCT, LATENCY_MEAN_TOLERANCE_PCT, type ToleranceRow } from './tolerance.ts';
import { formatNumber } from './format.ts';

export { formatNumber };

export interface PageChart { id: string; title: string; svg: string; table: string; png: boolean }

/** One proxy's part of an experiment page. */
export interface PartPage {
  proxy: ProxyName;
  modes: Mode[];
  runs: RunRow[];
  sections: Section[];
  answer: Headline | null;
  tolerance: ToleranceRow[];
}

export interface ExperimentPage {
  name: string;
  description: string;
  /** Fulcrum's first; one part and not `multi`: the page as before other proxies. */
  parts: PartPage[];
  /** Another proxy than Fulcrum's has results: headlines per proxy, the comparison, a part per proxy. */
  multi: boolean;
  compare: { rows: ProxyCompareRow[]; chart: ChartDef | null } | null;
  svgs: ReadonlyMap<string, string>;
  png: boolean;
  tables: string[];
  warnings: string[];
}

export interface IndexEntry {
  name: string;
  description: string;
  answer: Headline | null;
  modes: Mode[];
  /** Only when another proxy than Fulcrum's has results. */
  proxies?: Array<{ proxy: ProxyName; modes: Mode[]; answer: Headline | null }>;
  runs: number;
  charts: number;
  headline: PageChart | null;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Many SVGs share one document: ids (vega's clip paths, gradients) must be unique per chart,
 * or a url(#clip1) in one chart resolves to another chart's clip.
 */
export function inlineSvg(svg: string, idPrefix: string, title: string): string {
  return svg
    .replace(/^<\?xml[^>]*>\s*/, '')
    .replace(/\sid="([^"]+)"/g, ` id="${idPrefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${idPrefix}-$1"`)
    .replace(/^<svg /, `<svg role="img" aria-label="${escapeHtml(title)}" `);
}

const STYLE = `
body { font-family: Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif; margin: 0 auto; max-width: 1180px; padding: 1rem 1.5rem 3rem; color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
nav a { margin-right: .8rem; }
.engines span { display: inline-block; padding: .1rem .5rem; border-radius: .3rem; margin-right: .4rem; color: white; font-size: .9rem; }
.engines .sim { background: #4c78a8; } .engines .live { background: #f58518; } .engines .missing { background: #999; }
.missing-note { background: #fff6e5; border-left: 4px solid #f0a030; padding: .4rem .8rem; }
.warnings { background: #fdecec; border-left: 4px solid #d33; padding: .4rem .8rem; white-space: pre-wrap; font-family: monospace; font-size: .85rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1.2rem; }
figure.chart { margin: 0; max-width: 100%; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { font-size: .8rem; color: #555; }
table { border-collapse: collapse; font-size: .85rem; margin: .6rem 0; max-width: 100%; }
th, td { border: 1px solid #ddd; padding: .2rem .4rem; text-align: right; overflow-wrap: break-word; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.wide { overflow-x: auto; max-width: 100%; }
.answer { background: #f6f9fc; border-left: 4px solid #4c78a8; padding: .3rem 1rem .8rem; margin: 1rem 0; }
.answer .question { font-style: italic; color: #444; }
.answer .headline { font-size: 1.1rem; line-height: 1.45; }
.answer .fidelity-note { color: #444; }
ul.answer, ul.missing-note { padding-left: 2rem; } ul.answer li { margin: .25rem 0; line-height: 1.4; }
details.run-detail > summary { cursor: pointer; font-size: 1.2rem; margin-top: 1.2rem; }
td.far { background: #fff0f0; }
tr.far td { background: #fff0f0; }
code { background: #f4f4f4; padding: 0 .2rem; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** What to run for the engines a proxy has no results from; '' when it has both. */
function missingHint(name: string, modes: readonly Mode[], proxy: ProxyName): string {
  const missing = (['sim', 'live'] as const).filter((m) => !modes.includes(m));
  return missing.length
    ? `<p class="missing-note">No ${missing.join(' or ')} results: only ${modes.join(' and ')} is shown. Run ${missing.map((m) => `<code>npm run ${m} experiments/${escapeHtml(name)}.json${proxyFlag(proxy)}</code>`).join(' and ')}, then <code>npm run report ${escapeHtml(name)}</code>, to compare.</p>`
    : '';
}

/** `dir`: where the experiment's files are, relative to the page ('' or 'a1/'); `scope` keeps ids unique on the page. */
function figure(c: PageChart, dir: string, scope: string): string {
  const stem = `${dir}charts/${escapeHtml(c.id)}`;
  const idPrefix = `${scope}${c.id}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return `<figure class="chart" id="chart-${idPrefix}" data-chart="${escapeHtml(c.id)}">
${inlineSvg(c.svg, `c-${idPrefix}`, c.title)}
<figcaption>${escapeHtml(c.title)}${c.png ? ` · <a href="${stem}.png">PNG</a>` : ''} · <a href="${stem}.svg">SVG</a> · <a href="${stem}.vl.json">Vega-Lite</a> · <a href="${dir}tables/${escapeHtml(c.table)}">data (CSV)</a></figcaption>
</figure>`;
}

function runsTable(rows: readonly RunRow[]): string {
  const cols: Array<[string, (r: RunRow) => string, boolean?]> = [
    ['run', (r) => escapeHtml(r.run), true],
    ['engine', (r) => r.mode, true],
    ['policy', (r) => escapeHtml(r.policy), true],
    ['requests', (r) => formatNumber(r.requests, 0)],
    ['failed', (r) => formatNumber(r.failed, 0)],
    ['success (%)', (r) => formatNumber(r.successPct, 3)],
    ['retries', (r) => formatNumber(r.retries, 0)],
    ['attempts / request', (r) => formatNumber(r.attemptsPerRequest, 4)],
    ['p50 (ms)', (r) => formatNumber(r.latencyP50Ms)],
    ['p99 (ms)', (r) => formatNumber(r.latencyP99Ms)],
    ['max (ms)', (r) => formatNumber(r.latencyMaxMs)],
    ['max/mean', (r) => formatNumber(r.maxOverMean, 4)],
    ['Jain', (r) => formatNumber(r.jain, 4)],
    ['stickiness', (r) => formatNumber(r.stickiness, 4)],
    ['clients moved', (r) => formatNumber(r.clientsMoved, 4)],
    ['throughput (req/s)', (r) => formatNumber(r.throughputPerSec, 1)],
    ['duration (s)', (r) => formatNumber(r.durationMs / 1000, 3)],
  ];
  const head = cols.map(([h, , l]) => `<th${l ? ' class="l"' : ''}>${h}</th>`).join('');
  const body = rows.map((r) => `<tr>${cols.map(([, f, l]) => `<td${l ? ' class="l"' : ''}>${f(r)}</td>`).join('')}</tr>`).join('\n');
  return `<div class="wide"><table class="runs"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function fidelityTable(rows: readonly FidelityRow[]): string {
  const body = rows.map((r) => {
    const far = r.relErrorPct === null || Math.abs(r.relErrorPct) > FIDELITY_GUIDE_PCT;
    const rel = r.relErrorPct === null ? 'n/a (sim is 0)' : `${r.relErrorPct > 0 ? '+' : ''}${formatNumber(r.relErrorPct, 2)}`;
    return `<tr${far ? ' class="far"' : ''}><td class="l">${escapeHtml(r.metric)}</td><td class="l">${escapeHtml(r.unit)}</td>`
      + `<td>${formatNumber(r.sim, 6)}</td><td>${formatNumber(r.live, 6)}</td><td>${formatNumber(r.diff, 6)}</td><td>${rel}</td></tr>`;
  }).join('\n');
  return `<table class="fidelity"><thead><tr><th class="l">metric</th><th class="l">unit</th><th>sim</th><th>live</th><th>live − sim</th><th>relative error (%)</th></tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Metrics in the fidelity overview: one row per run, the headline numbers only. */
const OVERVIEW_METRICS = ['failed', 'success rate', 'throughput', 'latency p50', 'latency p99', 'max/mean load', 'retries'];

function fidelityOverview(sections: readonly Section[]): string {
  const runs = sections.filter((s) => s.fidelity);
  if (runs.length === 0) return '';
  const head = OVERVIEW_METRICS.map((m) => `<th>${escapeHtml(m)}</th>`).join('');
  const body = runs.map((s) => {
    const cells = OVERVIEW_METRICS.map((m) => {
      const r = s.fidelity!.find((f) => f.metric === m);
      if (!r) return '<td>—</td>';
      // n/a: sim said 0 and live did not (failed 0 vs 10): as worth a look as a large error.
      const far = r.relErrorPct === null || Math.abs(r.relErrorPct) > FIDELITY_GUIDE_PCT;
      const text = r.relErrorPct === null ? `n/a (${formatNumber(r.sim)} vs ${formatNumber(r.live)})` : `${r.relErrorPct > 0 ? '+' : ''}${formatNumber(r.relErrorPct, 1)} %`;
      return `<td${far ? ' class="far"' : ''}>${text}</td>`;
    }).join('');
    return `<tr><td class="l"><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></td>${cells}</tr>`;
  }).join('\n');
  return `<h3>Fidelity overview: relative error of live against sim</h3>
<table class="fidelity-overview"><thead><tr><th class="l">run</th>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function answerFidelityTable(a: Headline): string {
  if (!a.rows.some((r) => r.sim !== null && r.live !== null)) return '';
  const rel = (r: Headline['rows'][number]): string => (r.sim === null || r.live === null ? '—'
    : r.relErrorPct === null ? 'n/a (sim is 0)' : `${r.relErrorPct > 0 ? '+' : ''}${formatNumber(r.relErrorPct, 1)} %`);
  const body = a.rows.map((r) => `<tr${r.far ? ' class="far"' : ''}><td class="l">${escapeHtml(r.run)}</td><td>${formatNumber(r.sim)}</td><td>${formatNumber(r.live)}</td>`
    + `<td>${r.sim !== null && r.live !== null ? formatNumber(r.live - r.sim) : '—'}</td><td>${rel(r)}</td></tr>`).join('\n');
  return `<table class="answer-fidelity"><thead><tr><th class="l">run</th><th>sim</th><th>live</th><th>live − sim</th><th>relative error</th></tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** The top of a page (and an index entry): question, the answer in numbers, its charts, its fidelity. */
/** `withQuestion` false: a further proxy's headline under the first, which asked the question. */
function answerBlock(a: Headline, charts: readonly PageChart[], dir: string, scope: string, withTable: boolean, withQuestion = true): string {
  return `<div class="answer">${withQuestion ? `
<p class="question">${escapeHtml(a.question)}</p>` : ''}
<p class="headline">${escapeHtml(a.sentence)}</p>
${charts.length ? `<div class="charts">\n${charts.map((c) => figure(c, dir, scope)).join('\n')}\n</div>` : ''}
${a.fidelity ? `<p class="fidelity-note">${escapeHtml(a.fidelity)} (metric: ${escapeHtml(a.metric)}, ${escapeHtml(a.unit)})</p>` : ''}
${withTable ? answerFidelityTable(a) : ''}
</div>`;
}

const FIDELITY_DEFINITION = `<p>Relative error = (live − sim) / |sim|, in %: positive when the real processes measured more than the simulator predicted. It is 0 when both are 0 and n/a when only sim is 0 (shaded too). Rows beyond ±${FIDELITY_GUIDE_PCT} % are shaded (a reading aid, not a pass mark).</p>`;

export function experimentHtml(p: ExperimentPage): string {
  const chartsOf = (s: Section): PageChart[] => s.charts.map((c) => ({ id: c.id, title: c.title, table: c.table, svg: p.svgs.get(c.id)!, png: p.png }));
  const allSections = p.parts.flatMap((x) => x.sections);
  const byId = new Map(allSections.flatMap(chartsOf).map((c) => [c.id, c]));
  const answerOf = (a: Headline | null, withQuestion = true): string => (a ? answerBlock(a, a.charts.flatMap((id) => byId.get(id) ?? []), '', 'answer-', true, withQuestion) : '');
  // A sweep has a section per point: its summary charts come first, each point's detail folds away.
  const folds = (part: PartPage): boolean => part.sections.some((s) => s.key === null && /(^|--)sweep$/.test(s.id));
  const shownAbove = new Set(p.parts.flatMap((x) => x.answer?.charts ?? []));
  const sectionsOf = (part: PartPage): string => part.sections.map((s) => {
    const fold = folds(part);
    const missing = s.key && s.missing.length && part.modes.length > 1
      ? `<p class="missing-note">No ${s.missing.join(' or ')} results for this run.</p>` : '';
    const fidelity = s.fidelity ? `<h3>Fidelity</h3>${fidelityTable(s.fidelity)}` : '';
    // A chart the answer shows at the top is drawn once, there; its section links to it.
    const above = chartsOf(s).filter((c) => shownAbove.has(c.id));
    const inner = `${missing}<div class="charts">
${chartsOf(s).filter((c) => !shownAbove.has(c.id)).map((c) => figure(c, '', '')).join('\n')}
</div>${above.length ? `\n<p>${above.map((c) => `<a href="#chart-answer-${escapeHtml(c.id.replace(/[^A-Za-z0-9_-]/g, '_'))}">${escapeHtml(c.title)}</a>`).join(', ')}: at the top, with the answer.</p>` : ''}
${fidelity}`;
    if (fold && s.key) {
      return `<section id="${escapeHtml(s.id)}"><details class="run-detail"><summary>${escapeHtml(s.title)}</summary>\n${inner}\n</details></section>`;
    }
    return `<section id="${escapeHtml(s.id)}">
<h2>${escapeHtml(s.title)}</h2>
${inner}
</section>`;
  }).join('\n');
  const overview = (part: PartPage): string => (part.sections.some((s) => s.fidelity) ? `${fidelityOverview(part.sections)}\n${FIDELITY_DEFINITION}` : '');
  const warnings = p.warnings.length
    ? `<h2>Warnings</h2><div class="warnings">${escapeHtml(p.warnings.join('\n'))}</div>` : '';
  const files = `<section id="files"><h2>Files</h2><p>Tables: ${p.tables.map((t) => `<a href="tables/${escapeHtml(t)}">${escapeHtml(t)}</a>`).join(', ')}. `
    + `Every chart is also in <code>charts/</code> as SVG${p.png ? ', PNG' : ''} and its Vega-Lite spec (<code>.vl.json</code>, data inline).</p></section>`;
  const top = `<p><a href="../index.html">← all experiments</a></p>
<h1>Experiment ${escapeHtml(p.name)}</h1>`;
  const description = p.description ? `<p>${escapeHtml(p.description)}</p>` : '';

  if (!p.multi) {
    // Fulcrum's proxy alone: the page as it was before reports knew other proxies.
    const [part] = p.parts;
    const nav = part.sections.filter((s) => !(s.key && folds(part)))
      .map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`).join(' ');
    const body = `${top}
<p class="engines">${badges(part.modes)}</p>${missingHint(p.name, part.modes, 'fulcrum')}
${answerOf(part.answer)}
${description}
<nav>${nav} <a href="#files">Files</a></nav>
<section id="runs"><h2>Runs</h2>
${runsTable(part.runs)}
${overview(part)}
</section>
${sectionsOf(part)}
${warnings}
${files}`;
    return page(`Fulcrum · ${p.name}`, body);
  }

  const label = (part: PartPage): string => escapeHtml(PROXY_LABELS[part.proxy]);
  const nav = [
    ...(p.compare ? ['<a href="#proxies">Proxies compared</a>'] : []),
    ...p.parts.map((x) => `<a href="#proxy-${x.proxy}">${label(x)}</a>`),
  ].join(' ');
  const proxyParts = p.parts.map((part) => `<section id="proxy-${part.proxy}"><h2>${label(part)}</h2>
${missingHint(p.name, part.modes, part.proxy)}
<h3>Runs</h3>
${runsTable(part.runs)}
<h3>Prediction vs measurement</h3>
${toleranceTable(part)}
${overview(part)}
</section>
${sectionsOf(part)}`).join('\n');
  const body = `${top}
${p.parts.map((x) => `<p class="engines"><b>${label(x)}</b> (${enginesWord(x.modes)}): ${badges(x.modes)}</p>`).join('\n')}
${p.parts.map((x, i) => answerOf(x.answer, i === 0)).filter(Boolean).join('\n')}
${description}
<nav>${nav} <a href="#files">Files</a></nav>
${p.compare ? compareSection(p.compare, p.parts, p.svgs, p.png) : ''}
${proxyParts}
${warnings}
${files}`;
  return page(`Fulcrum · ${p.name}`, body);
}

function badges(modes: readonly Mode[]): string {
  return (['sim', 'live'] as const).map((m) => modes.includes(m)
    ? `<span class="${m}">${m}</span>`
    : `<span class="missing">${m}: missing</span>`).join('');
}

/** The agreed tolerances, one row per run and metric; or why there is nothing to judge yet. */
function toleranceTable(part: PartPage): string {
  if (part.tolerance.length === 0) {
    const has = part.modes.includes('sim') ? 'a prediction (sim)' : 'a measurement (live)';
    return `<p class="missing-note">${escapeHtml(PROXY_LABELS[part.proxy])} has only ${has} so far: nothing to compare yet.</p>`;
  }
  const body = part.tolerance.map((r) => {
    const verdict = r.within === null ? '' : r.within ? 'within' : 'outside';
    const rel = r.relErrorPct === null ? 'n/a (sim is 0)' : `${r.relErrorPct > 0 ? '+' : ''}${formatNumber(r.relErrorPct, 2)} %`;
    return `<tr${r.within === false ? ' class="far"' : ''}><td class="l">${escapeHtml(r.run)}</td><td class="l">${escapeHtml(r.metric)}</td><td class="l">${escapeHtml(r.unit)}</td>`
      + `<td>${formatNumber(r.sim, 3)}</td><td>${formatNumber(r.live, 3)}</td><td>${rel}</td><td class="l">${escapeHtml(r.tolerance) || '—'}</td><td class="l">${verdict}</td></tr>`;
  }).join('\n');
  return `<table class="tolerance"><thead><tr><th class="l">run</th><th class="l">metric</th><th class="l">unit</th><th>predicted (sim)</th><th>measured (live)</th><th>relative error</th><th class="l">tolerance</th><th class="l">verdict</th></tr></thead><tbody>
${body}
</tbody></table>
${TOLERANCE_DEFINITION}`;
}

const TOLERANCE_DEFINITION = `<p>Tolerances agreed for the simulator's models: per-server attempts exactly equal for a deterministic policy (round robin, weighted round robin, hashing) on a run without failures or retries; client failures within ±${FAILED_TOLERANCE_PCT} %; mean latency within ±${LATENCY_MEAN_TOLERANCE_PCT} %. Rows without a tolerance are shown for reading only.</p>`;

/** The answer's metrics on every proxy: one row per run, sim and live per proxy, and the chart. */
function compareSection(c: NonNullable<ExperimentPage['compare']>, parts: readonly PartPage[], svgs: ReadonlyMap<string, string>, png: boolean): string {
  const metrics = [...new Set(c.rows.map((r) => r.metric))];
  const head = parts.flatMap((x) => (['sim', 'live'] as const).map((m) => `<th>${escapeHtml(PROXY_LABELS[x.proxy])} ${m === 'sim' ? 'predicted' : 'measured'}</th>`)).join('');
  const tables = metrics.map((metric) => {
    const rows = c.rows.filter((r) => r.metric === metric);
    const runs = [...new Set(rows.map((r) => r.run))];
    const body = runs.map((run) => `<tr><td class="l">${escapeHtml(run)}</td>${parts.flatMap((x) => (['sim', 'live'] as const).map((m) => {
      const v = rows.find((r) => r.run === run && r.proxy === x.proxy && r.mode === m);
      return `<td>${v ? formatNumber(v.value) : '—'}</td>`;
    })).join('')}</tr>`).join('\n');
    return `<h3>${escapeHtml(metric)} (${escapeHtml(rows[0].unit)})</h3>
<div class="wide"><table class="proxies"><thead><tr><th class="l">run</th>${head}</tr></thead><tbody>
${body}
</tbody></table></div>`;
  }).join('\n');
  const chart = c.chart ? `<div class="charts">\n${figure({ id: c.chart.id, title: c.chart.title, table: c.chart.table, svg: svgs.get(c.chart.id)!, png }, '', '')}\n</div>` : '';
  return `<section id="proxies"><h2>Same question on every proxy</h2>
<p>Predicted is the simulator with that proxy's model (<code>npm run sim FILE -- --proxy NAME</code>); measured is the real proxy (<code>npm run live FILE -- --proxy NAME</code>). — marks a run not predicted or not measured yet.</p>
${chart}
${tables}
</section>`;
}

/** `comparison`: the four-proxy section (comparison-page.ts), after the experiments table. */
export function indexHtml(entries: readonly IndexEntry[], comparison = ''): string {
  const engines = (modes: readonly Mode[]): string => (['sim', 'live'] as const).map((m) => (modes.includes(m) ? m : `<s>${m}</s>`)).join(' ');
  // Fulcrum's proxy alone: the engines as before; with others, a line per proxy.
  const enginesCell = (e: IndexEntry): string => (e.proxies
    ? e.proxies.map((x) => `${escapeHtml(PROXY_LABELS[x.proxy])}: ${engines(x.modes)}`).join('<br>')
    : engines(e.modes));
  const rows = entries.map((e) => `<tr><td class="l"><a href="${escapeHtml(e.name)}/index.html">${escapeHtml(e.name)}</a></td>`
    + `<td class="l">${escapeHtml(e.answer?.question ?? e.description)}</td><td class="l">${enginesCell(e)}</td>`
    + `<td>${e.runs}</td><td>${e.charts}</td></tr>`).join('\n');
  const headlines = entries.filter((e) => e.headline || e.answer).map((e) => {
    const charts = e.headline ? [e.headline] : [];
    const answers = e.proxies ? e.proxies.flatMap((x) => (x.answer ? [x.answer] : [])) : e.answer ? [e.answer] : [];
    // Several proxies: each headline, then the chart that puts the answer on all of them.
    const body = e.proxies && answers.length
      ? `${answers.map((a, i) => answerBlock(a, [], '', '', false, i === 0)).join('\n')}\n<div class="charts">\n${charts.map((c) => figure(c, `${escapeHtml(e.name)}/`, `${e.name}-`)).join('\n')}\n</div>`
      : answers.length
      ? answerBlock(answers[0], charts, `${escapeHtml(e.name)}/`, `${e.name}-`, false)
      : `<div class="charts">\n${charts.map((c) => figure(c, `${escapeHtml(e.name)}/`, `${e.name}-`)).join('\n')}\n</div>`;
    return `<section id="${escapeHtml(e.name)}">
<h2><a href="${escapeHtml(e.name)}/index.html">${escapeHtml(e.name)}</a></h2>
${body}
</section>`;
  }).join('\n');
  const body = `<h1>Fulcrum reports</h1>
<p>Each experiment runs in the simulator (<code>npm run sim</code>) and against real processes (<code>npm run live</code>); <code>npm run report</code> draws both on the same axes. Struck-through engines have no results yet.${comparison ? ' The same questions on four proxies: <a href="#four-proxies">below</a>.' : ''}</p>${entries.some((e) => e.proxies) ? '\n<p>Where another proxy than Fulcrum\'s has results (<code>--proxy NAME</code>), its engines are listed per proxy and its page puts the same question to each.</p>' : ''}
<table><thead><tr><th class="l">experiment</th><th class="l">description</th><th class="l">engines</th><th>runs</th><th>charts</th></tr></thead><tbody>
${rows}
</tbody></table>
${comparison ? `${comparison}\n` : ''}${headlines}`;
  return page('Fulcrum reports', body);
}
