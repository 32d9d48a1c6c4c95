// Turns one experiment's results into reports/<name>/: tables/*.csv, charts/*.{vl.json,svg,png},
// index.html and report.json (what the top-level index needs), then rebuilds reports/index.html
// from every report.json. Only charts/, tables/, index.html, report.json and
// request-stats.json (the per-request aggregates, for clones without requests.csv) are
// written; the engines' sim/ and live/ folders are never touched.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type ProxyName, modeFolder } from '../experiments/proxies.ts';
import { type Headline, headlineOf } from './answer.ts';
import { COMPARISON_FILE, type ComparisonInput, comparisonBlocks, comparisonHtml, comparisonMarkdown } from './comparison-page.ts';
import { type CompareRun, compareRuns } from './comparison.ts';
import { DEFAULT_COMPARE_METRICS, type ProxyCompareRow, keysOfAll, proxyCompareChart, proxyCompareRows } from './compare.ts';
import { type Derived, derive } from './derive.ts';
import { exists, listExperiments } from './discover.ts';
import { ReportInputError } from './errors.ts';
import { type IndexEntry, experimentHtml, indexHtml } from './html.ts';
import { type LoadOptions, loadExperimentProxies } from './load.ts';
import type { ExperimentResults, Mode } from './model.ts';
import { type ChartDef, type Section, planSections } from './plan.ts';
import { tableFileOf } from './proxies.ts';
import { renderPng, renderSvg } from './render.ts';
import { cacheKey, statsData, writeRequestStatsCache } from './request-stats.ts';
import { sortNatural } from './sort.ts';
import { tablesOf, toCsv } from './tables.ts';
import { toleranceRows } from './tolerance.ts';

export interface BuildOptions extends LoadOptions {
  /** Render PNGs next to the SVGs (the slow part). */
  png: boolean;
}

/** reports/<name>/report.json: enough for the index page without reloading results. */
export interface Manifest {
  experiment: string;
  description: string;
  /** The first proxy's engines (Fulcrum's, when it has results). */
  modes: Mode[];
  /** With another proxy than Fulcrum's: each proxy's engines and headline. */
  proxies?: Array<{ proxy: ProxyName; modes: Mode[]; answer: Headline | null }>;
  runs: number;
  /** Whether charts/ holds PNG copies. */
  png: boolean;
  /** The chart the index shows: the proxies chart, else the answer's first chart, else the page's first. */
  headline: string | null;
  /** The answer the page leads with (experiment file's "answer"), or null. */
  answer: Headline | null;
  charts: Array<{ id: string; title: string; section: string; table: string }>;
  tables: string[];
  /** Every proxy's runs, predicted beside measured: what the four-proxy page (proxies.md) reads. */
  comparison: CompareRun[];
}

export const MANIFEST = 'report.json';

export interface BuildResult {
  name: string;
  manifest: Manifest;
  /** Problems worth a look that did not stop the report (input mismatches, vega warnings). */
  warnings: string[];
}

/** One proxy's share of an experiment page. */
export interface ProxyPart {
  proxy: ProxyName;
  e: ExperimentResults;
  d: Derived;
  sections: Section[];
  answer: Headline | null;
}

function proxyPart(e: ExperimentResults, multi: boolean, warnings: string[]): ProxyPart {
  const d = derive(e);
  const sections = planSections(e, d);
  const answer = e.answer ? headlineOf(e, e.answer, sections.flatMap((s) => s.charts.map((c) => c.id)), warnings, multi) : null;
  return { proxy: e.proxy, e, d, sections, answer };
}

async function writeExperiment(name: string, all: readonly ExperimentResults[], opts: BuildOptions): Promise<BuildResult> {
  const multi = all.length > 1 || all[0].proxy !== 'fulcrum';
  // Every proxy reads the same experiment file: its warnings once.
  const pageWarnings = [...new Set(all.flatMap((e) => e.warnings))];
  const parts = all.map((e) => proxyPart(e, multi, pageWarnings));
  const first = parts[0];
  const out = join(opts.root, name);
  const warnings = [...pageWarnings];

  await Promise.all(['charts', 'tables'].map((sub) => rm(join(out, sub), { recursive: true, force: true })));
  await mkdir(join(out, 'charts'), { recursive: true });
  await mkdir(join(out, 'tables'), { recursive: true });

  await writeRequestStatsCache(out, parts.flatMap(({ e }) => e.runs.flatMap((r): Array<[string, ReturnType<typeof statsData>]> => (r.requests
    ? [[cacheKey(modeFolder(r.mode, e.proxy), r.key.dir), statsData(r.requests, r.summary)]] : []))));
  const tables = new Map(parts.flatMap((p) => [...tablesOf(p.d)].map(([file, rows]) => [tableFileOf(p.proxy, file), rows] as const)));
  const compare = multi ? comparison(all) : null;
  if (compare && compare.rows.length) tables.set('proxies.csv', compare.rows);
  const tolerance = parts.map((p) => toleranceRows(p.d));
  // Several proxies: every proxy's prediction vs measurement under the agreed tolerances, one file.
  const toleranceCsv = multi ? parts.flatMap((p, i) => tolerance[i].map((r) => ({ proxy: p.proxy, ...r }))) : [];
  if (toleranceCsv.length) tables.set('tolerance.csv', toleranceCsv);
  for (const [file, rows] of tables) {
    await mkdir(dirname(join(out, 'tables', file)), { recursive: true });
    await writeFile(join(out, 'tables', file), toCsv(rows));
  }

  const sections = parts.flatMap((p) => p.sections);
  const svgs = new Map<string, string>();
  for (const chart of [...(compare?.chart ? [compare.chart] : []), ...sections.flatMap((s) => s.charts)]) {
    if (svgs.has(chart.id)) throw new Error(`two charts named ${chart.id}`);
    const chartWarnings: string[] = [];
    const svg = await renderSvg(chart.spec, chartWarnings);
    for (const w of chartWarnings) warnings.push(`chart ${chart.id}: ${w}`);
    svgs.set(chart.id, svg);
    const stem = join(out, 'charts', chart.id);
    await writeFile(`${stem}.vl.json`, `${JSON.stringify(chart.spec, null, 2)}\n`);
    await writeFile(`${stem}.svg`, `${svg}\n`);
    if (opts.png) await writeFile(`${stem}.png`, renderPng(svg));
  }

  await writeFile(join(out, 'index.html'), experimentHtml({
    name, description: first.e.description, svgs, png: opts.png, tables: [...tables.keys()], warnings: pageWarnings,
    parts: parts.map((p, i) => ({ proxy: p.proxy, modes: p.e.modes, runs: p.d.runs, sections: p.sections, answer: p.answer, tolerance: tolerance[i] })),
    compare: compare && { rows: compare.rows, chart: compare.chart },
    multi,
  }));
  const allCharts = [...(compare?.chart ? [{ chart: compare.chart, section: 'proxies' }] : []), ...sections.flatMap((s) => s.charts.map((chart) => ({ chart, section: s.id })))];
  const manifest: Manifest = {
    experiment: name,
    description: first.e.description,
    modes: first.e.modes,
    ...(multi ? { proxies: parts.map((p) => ({ proxy: p.proxy, modes: p.e.modes, answer: p.answer })) } : {}),
    runs: keysOfAll(all).length,
    png: opts.png,
    // Several proxies: the index shows the answer on every proxy at once.
    headline: compare?.chart?.id ?? first.answer?.charts[0] ?? allCharts[0]?.chart.id ?? null,
    answer: first.answer,
    charts: allCharts.map(({ chart: c, section }) => ({ id: c.id, title: c.title, section, table: c.table })),
    tables: [...tables.keys()],
    comparison: parts.flatMap((p) => compareRuns(p.e, p.d)),
  };
  await writeFile(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { name, manifest, warnings };
}

/** The answer's metrics (else failures and mean latency) on every proxy: rows and one chart. */
function comparison(all: readonly ExperimentResults[]): { rows: ProxyCompareRow[]; chart: ChartDef | null } {
  const answer = all[0].answer;
  const rows = proxyCompareRows(all, answer ? [answer.metric, ...answer.also] : DEFAULT_COMPARE_METRICS);
  return { rows, chart: proxyCompareChart(all, rows) };
}

/**
 * reports/index.html from every reports/<name>/report.json, each with its headline chart, and
 * the four-proxy page (reports/proxies.md, also a section of the index) from the same files.
 */
export async function buildIndex(root: string): Promise<number> {
  const entries: IndexEntry[] = [];
  const compared = new Map<string, ComparisonInput>();
  const dirs = sortNatural((await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name));
  for (const name of dirs) {
    const path = join(root, name, MANIFEST);
    if (!(await exists(path))) continue;
    let m: Manifest;
    try {
      m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    } catch {
      continue; // a half-written report: it is rebuilt on the next run of that experiment
    }
    // A report.json from before the comparison existed has none: its experiment is rebuilt on the next report.
    if (m.comparison) compared.set(name, { question: m.answer?.question ?? m.description, runs: m.comparison });
    const chart = m.charts.find((c) => c.id === m.headline);
    const svgPath = chart ? join(root, name, 'charts', `${chart.id}.svg`) : null;
    const svg = svgPath && await exists(svgPath) ? (await readFile(svgPath, 'utf8')).trimEnd() : null;
    entries.push({
      name,
      description: m.description,
      answer: m.answer ?? null,
      modes: m.modes,
      ...(m.proxies ? { proxies: m.proxies } : {}),
      runs: m.runs,
      charts: m.charts.length,
      headline: chart && svg ? { id: chart.id, title: chart.title, svg, table: chart.table, png: m.png === true } : null,
    });
  }
  const blocks = comparisonBlocks(compared);
  await writeFile(join(root, COMPARISON_FILE), comparisonMarkdown(blocks));
  await writeFile(join(root, 'index.html'), indexHtml(entries, comparisonHtml(blocks)));
  return entries.length;
}

/** The whole `npm run report`: the named experiments (all with results when none), then the index. */
export async function buildReports(
  names: readonly string[], opts: BuildOptions, onBuilt: (r: BuildResult) => void = () => {},
): Promise<{ built: BuildResult[]; listed: number }> {
  const todo = names.length ? names : await listExperiments(opts.root);
  if (todo.length === 0) {
    throw new ReportInputError(opts.root, 'no results in any <name>/sim, <name>/live or <name>/sim-<proxy> folder (run "npm run sim experiments/a1.json" first)');
  }
  // Every input is read and checked before anything is written: one bad experiment leaves
  // every report, and the index, as they were.
  const loaded: Array<[string, ExperimentResults[]]> = [];
  for (const name of todo) loaded.push([name, await loadExperimentProxies(name, opts)]);
  const built: BuildResult[] = [];
  for (const [name, e] of loaded) {
    const r = await writeExperiment(name, e, opts);
    onBuilt(r);
    built.push(r);
  }
  return { built, listed: await buildIndex(opts.root) };
}
