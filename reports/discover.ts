// Finds the runs inside one mode folder (reports/<name>/<mode>/) by following its
// summary.json files: a run's own summary, a sweep's index (points, each with a folder) or
// a variant list (each variant a folder, itself a run or a sweep). A folder without a
// summary.json falls back to its sub-folders, so a partial tree still reports what it has.
// Mode folders are per proxy: sim/ and live/ for Fulcrum's own, sim-haproxy/ … for another.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PROXY_NAMES, type ProxyName, isProxyName, modeFolder } from '../experiments/proxies.ts';
import { ReportInputError } from './errors.ts';
import type { Mode, RunKey, ReportRunSummary } from './model.ts';
import { type SummaryFile, type SweepData, parseSummaryFile, toRunSummary } from './schema.ts';
import { sortNatural } from './sort.ts';

export const SUMMARY = 'summary.json';

export interface DiscoveredRun {
  key: RunKey;
  /** The run's folder; null when only an index lists it (its point or variant folder is gone). */
  folder: string | null;
  summary: ReportRunSummary;
}

export interface ModeTree {
  mode: Mode;
  proxy: ProxyName;
  runs: DiscoveredRun[];
  variants: string[] | null;
  sweep: { path: string; values: unknown[] } | null;
}

export async function exists(path: string): Promise<boolean> {
  try { await stat(path); return true; } catch { return false; }
}

/** Experiments under `root` with results: folders holding a mode folder (sim/, live-haproxy/ …) with a summary.json somewhere inside. */
export async function listExperiments(root: string): Promise<string[]> {
  let entries;
  try { entries = await readdir(root, { withFileTypes: true }); } catch {
    throw new ReportInputError(root, 'no such folder');
  }
  const names: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() && (await proxiesWithResults(join(root, e.name))).length > 0) names.push(e.name);
  }
  return sortNatural(names);
}

/**
 * The proxies with results in an experiment folder, in PROXY_NAMES order (Fulcrum's first).
 * A folder named like a mode folder for a proxy Fulcrum does not know is an error, not skipped:
 * results nobody reports are worse than a one-line complaint.
 */
export async function proxiesWithResults(dir: string): Promise<ProxyName[]> {
  const found = new Set<ProxyName>();
  for (const sub of await subfolders(dir)) {
    const m = /^(sim|live)(?:-(.*))?$/.exec(sub);
    if (!m) continue;
    const proxy = m[2] ?? 'fulcrum';
    if (!isProxyName(proxy) || modeFolder(m[1] as Mode, proxy) !== sub) {
      const others = PROXY_NAMES.filter((p) => p !== 'fulcrum').map((p) => `${m[1]}-${p}`);
      throw new ReportInputError(join(dir, sub), `not a mode folder of a known proxy; expected ${m[1]} (Fulcrum's own) or ${others.join(', ')}`);
    }
    if (await hasSummary(join(dir, sub), 3)) found.add(proxy);
  }
  return PROXY_NAMES.filter((p) => found.has(p));
}

async function hasSummary(dir: string, depth: number): Promise<boolean> {
  if (await exists(join(dir, SUMMARY))) return true;
  if (depth === 0) return false;
  for (const sub of await subfolders(dir)) if (await hasSummary(join(dir, sub), depth - 1)) return true;
  return false;
}

async function subfolders(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return sortNatural(entries.filter((e) => e.isDirectory()).map((e) => e.name));
  } catch {
    return [];
  }
}

export async function readSummaryFile(path: string, mode: Mode, proxy: ProxyName = 'fulcrum'): Promise<SummaryFile> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    throw new ReportInputError(path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let raw: unknown;
  try { raw = JSON.parse(text.replace(/^\uFEFF/, '')); } catch (e) {
    throw new ReportInputError(path, `not valid JSON: ${(e as Error).message}`);
  }
  const parsed = parseSummaryFile(raw);
  if (!parsed.ok) throw new ReportInputError(path, `not a valid summary:\n${parsed.problems.map((p) => `  ${p}`).join('\n')}`);
  if (parsed.file.mode !== undefined && parsed.file.mode !== mode) {
    throw new ReportInputError(path, `says "mode": "${parsed.file.mode}" but sits in a ${modeFolder(mode, proxy)}/ folder`);
  }
  const said = parsed.file.proxy ?? 'fulcrum';
  if (said !== proxy) {
    const home = said === 'fulcrum' ? mode : `${mode}-${said}`;
    throw new ReportInputError(path, parsed.file.proxy === undefined
      ? `has no "proxy" (Fulcrum's own results) but sits in a ${modeFolder(mode, proxy)}/ folder; expected "proxy": "${proxy}"`
      : `says "proxy": "${said}" but sits in a ${modeFolder(mode, proxy)}/ folder (its results belong in ${home}/)`);
  }
  return parsed.file;
}

/** The folder a sweep point's run is written to: experiments/schema.ts names it this way. */
export function sweepFolder(path: string, value: unknown, index: number): string {
  const scalar = typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
  const text = scalar ? String(value) : `point-${index}`;
  return `${path}=${text}`.replace(/[^A-Za-z0-9._=-]/g, '_');
}

export function pointLabel(path: string, value: unknown): string {
  return `${path} = ${typeof value === 'string' ? value : JSON.stringify(value)}`;
}

/** Every run of one mode of one proxy; null when the mode folder has no results. */
export async function discoverMode(modeDir: string, mode: Mode, proxy: ProxyName = 'fulcrum'): Promise<ModeTree | null> {
  if (!(await hasSummary(modeDir, 3))) return null;
  const tree: ModeTree = { mode, proxy, runs: [], variants: null, sweep: null };
  await walk(tree, modeDir, [], {});
  return tree;
}

interface Context { variant?: string }

async function walk(tree: ModeTree, dir: string, rel: string[], ctx: Context): Promise<void> {
  const summaryPath = join(dir, SUMMARY);
  if (!(await exists(summaryPath))) {
    // No index here: every sub-folder with results is a variant, or a sweep point when named path=value.
    for (const sub of await subfolders(dir)) {
      if (!(await hasSummary(join(dir, sub), 2))) continue;
      const eq = sub.indexOf('=');
      if (eq > 0) {
        const path = sub.slice(0, eq);
        const text = sub.slice(eq + 1);
        const value = text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
        const index = addSweepValue(tree, path, value, join(dir, sub));
        await walkPoint(tree, join(dir, sub), [...rel, sub], ctx, { path, value, index, label: pointLabel(path, value) });
      } else if (rel.length === 0) {
        addVariant(tree, sub);
        await walk(tree, join(dir, sub), [...rel, sub], { variant: sub });
      }
    }
    return;
  }
  const file = await readSummaryFile(summaryPath, tree.mode, tree.proxy);
  if (file.kind === 'run') {
    tree.runs.push({ key: { dir: rel.join('/'), ...ctx }, folder: dir, summary: file.summary });
    return;
  }
  if (file.kind === 'variants') {
    if (rel.length > 0) throw new ReportInputError(summaryPath, 'a variant list inside a variant or sweep folder');
    for (const v of file.index.variants) {
      addVariant(tree, v.name);
      const sub = join(dir, v.name);
      const vctx = { variant: v.name };
      if (await exists(join(sub, SUMMARY))) await walk(tree, sub, [v.name], vctx);
      // Loose objects carry an index signature, so `in` cannot narrow the union: the schema already checked sweep's shape.
      else if ('sweep' in v) await walkSweep(tree, sub, [v.name], vctx, v.sweep as SweepData, summaryPath);
      else tree.runs.push({ key: { dir: v.name, ...vctx }, folder: null, summary: toRunSummary(v) });
    }
    return;
  }
  await walkSweep(tree, dir, rel, ctx, file.index.sweep, summaryPath);
}

async function walkSweep(
  tree: ModeTree, dir: string, rel: string[], ctx: Context,
  sweep: SweepData, indexPath: string,
): Promise<void> {
  for (const [i, p] of sweep.points.entries()) {
    const index = addSweepValue(tree, sweep.path, p.value, indexPath);
    const sub = sweepFolder(sweep.path, p.value, i);
    const point = { path: sweep.path, value: p.value, index, label: pointLabel(sweep.path, p.value) };
    const key = { dir: [...rel, sub].join('/'), ...ctx, point };
    if (await exists(join(dir, sub, SUMMARY))) {
      const file = await readSummaryFile(join(dir, sub, SUMMARY), tree.mode, tree.proxy);
      if (file.kind !== 'run') throw new ReportInputError(join(dir, sub, SUMMARY), 'expected the summary of one sweep point');
      tree.runs.push({ key, folder: join(dir, sub), summary: file.summary });
    } else {
      tree.runs.push({ key, folder: null, summary: toRunSummary(p) });
    }
  }
}

async function walkPoint(tree: ModeTree, dir: string, rel: string[], ctx: Context, point: NonNullable<RunKey['point']>): Promise<void> {
  const file = await readSummaryFile(join(dir, SUMMARY), tree.mode, tree.proxy);
  if (file.kind !== 'run') throw new ReportInputError(join(dir, SUMMARY), 'expected the summary of one sweep point');
  tree.runs.push({ key: { dir: rel.join('/'), ...ctx, point }, folder: dir, summary: file.summary });
}

function addVariant(tree: ModeTree, name: string): void {
  tree.variants ??= [];
  if (!tree.variants.includes(name)) tree.variants.push(name);
}

/** Adds a sweep value once; returns its index in the tree's sweep values. */
function addSweepValue(tree: ModeTree, path: string, value: unknown, where: string): number {
  tree.sweep ??= { path, values: [] };
  if (tree.sweep.path !== path) throw new ReportInputError(where, `sweeps "${path}" but another part of the same run sweeps "${tree.sweep.path}"`);
  const i = tree.sweep.values.findIndex((v) => sameValue(v, value));
  if (i >= 0) return i;
  tree.sweep.values.push(value);
  return tree.sweep.values.length - 1;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
