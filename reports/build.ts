// Turns one experiment's results into reports/<name>/: tables/*.csv, charts/*.{vl.json,svg,png},
// index.html and report.json (what the top-level index needs), then rebuilds reports/index.html
// from every report.json. Only charts/, tables/, index.html, report.json and
// request-stats.json (the per-request aggregates, for clones without requests.csv) are
// written; the engines' sim/ and live/ folders are never touched.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Headline, headlineOf } from './answer.ts';
import { derive } from './derive.ts';
import { exists, listExperiments } from './discover.ts';
import { ReportInputError } from './errors.ts';
import { type IndexEntry, experimentHtml, indexHtml } from './html.ts';
import { type LoadOptions, loadExperimentResults } from './load.ts';
import type { ExperimentResults, Mode } from './model.ts';
import { planSections } from './plan.ts';
import { renderPng, renderSvg } from './render.ts';
import { cacheKey, statsData, writeRequestStatsCache } from './request-stats.ts';
import { sortNatural } from './sort.ts';
import { tablesOf, toCsv } from './tables.ts';

export interface BuildOptions extends LoadOptions {
  /** Render PNGs next to the SVGs (the slow part). */
  png: boolean;
}

/** reports/<name>/report.json: enough for the index page without reloading results. */
export interface Manifest {
  experiment: string;
  description: string;
  modes: Mode[];
  runs: number;
  /** Whether charts/ holds PNG copies. */
  png: boolean;
  /** The chart the index shows: the answer's first chart, else the page's first. */
  headline: string | null;
  /** The answer the page leads with (experiment file's "answer"), or null. */
  answer: Headline | null;
  charts: Array<{ id: string; title: string; section: string; table: string }>;
  tables: string[];
}

export const MANIFEST = 'report.json';

export interface BuildResult {
  name: string;
  manifest: Manifest;
  /** Problems worth a look that did not stop the report (input mismatches, vega warnings). */
  warnings: string[];
}

async function writeExperiment(name: string, e: ExperimentResults, opts: BuildOptions): Promise<BuildResult> {
  const d = derive(e);
  const sections = planSections(e, d);
  const out = join(opts.root, name);
  const pageWarnings = [...e.warnings];
  const answer = e.answer ? headlineOf(e, e.answer, sections.flatMap((s) => s.charts.map((c) => c.id)), pageWarnings) : null;
  const warnings = [...pageWarnings];

  await Promise.all(['charts', 'tables'].map((sub) => rm(join(out, sub), { recursive: true, force: true })));
  await mkdir(join(out, 'charts'), { recursive: true });
  await mkdir(join(out, 'tables'), { recursive: true });

  await writeRequestStatsCache(out, e.runs.flatMap((r) => (r.requests ? [[cacheKey(r.mode, r.key.dir), statsData(r.requests, r.summary)]] : [])));
  const tables = tablesOf(d);
  for (const [file, rows] of tables) await writeFile(join(out, 'tables', file), toCsv(rows));

  const svgs = new Map<string, string>();
  for (const chart of sections.flatMap((s) => s.charts)) {
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
    name, description: e.description, answer, modes: e.modes, runs: d.runs, sections, svgs, png: opts.png, tables: [...tables.keys()], warnings: pageWarnings,
  }));
  const manifest: Manifest = {
    experiment: name,
    description: e.description,
    modes: e.modes,
    runs: e.keys.length,
    png: opts.png,
    headline: answer?.charts[0] ?? sections[0]?.charts[0]?.id ?? null,
    answer,
    charts: sections.flatMap((s) => s.charts.map((c) => ({ id: c.id, title: c.title, section: s.id, table: c.table }))),
    tables: [...tables.keys()],
  };
  await writeFile(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { name, manifest, warnings };
}

/** reports/index.html from every reports/<name>/report.json, each with its headline chart. */
export async function buildIndex(root: string): Promise<number> {
  const entries: IndexEntry[] = [];
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
    const chart = m.charts.find((c) => c.id === m.headline);
    const svgPath = chart ? join(root, name, 'charts', `${chart.id}.svg`) : null;
    const svg = svgPath && await exists(svgPath) ? (await readFile(svgPath, 'utf8')).trimEnd() : null;
    entries.push({
      name,
      description: m.description,
      answer: m.answer ?? null,
      modes: m.modes,
      runs: m.runs,
      charts: m.charts.length,
      headline: chart && svg ? { id: chart.id, title: chart.title, svg, table: chart.table, png: m.png === true } : null,
    });
  }
  await writeFile(join(root, 'index.html'), indexHtml(entries));
  return entries.length;
}

/** The whole `npm run report`: the named experiments (all with results when none), then the index. */
export async function buildReports(
  names: readonly string[], opts: BuildOptions, onBuilt: (r: BuildResult) => void = () => {},
): Promise<{ built: BuildResult[]; listed: number }> {
  const todo = names.length ? names : await listExperiments(opts.root);
  if (todo.length === 0) {
    throw new ReportInputError(opts.root, 'no results in any <name>/sim or <name>/live folder (run "npm run sim experiments/a1.json" first)');
  }
  // Every input is read and checked before anything is written: one bad experiment leaves
  // every report, and the index, as they were.
  const loaded: Array<[string, ExperimentResults]> = [];
  for (const name of todo) loaded.push([name, await loadExperimentResults(name, opts)]);
  const built: BuildResult[] = [];
  for (const [name, e] of loaded) {
    const r = await writeExperiment(name, e, opts);
    onBuilt(r);
    built.push(r);
  }
  return { built, listed: await buildIndex(opts.root) };
}
