// What `npm run sim:check` (sim/check-results.ts) does for one experiment: re-runs it in the
// simulator into a scratch folder and compares each committed result file under reports/<name>/sim (Fulcrum's proxy) and
// reports/<name>/sim-<proxy> (another proxy's model, `npm run sim -- --proxy X`) with the
// fresh one, byte for byte. A refactor that claims "behaviour unchanged" must pass this; a fix
// that changes results must explain every file listed here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROXY_NAMES, type ProxyName, isProxyName, modeFolder } from '../experiments/proxies.ts';
import { loadExperiment } from '../experiments/schema.ts';
import { runPlan } from './run.ts';

export class CheckInputError extends Error {}

export interface CheckOptions {
  /** Where <name>.json live (default: experiments). */
  experimentsDir: string;
  /** Where the committed reports/<name>/sim* folders live (default: reports). */
  reportsDir: string;
  /** Fresh results go to <scratch>/<name>/<mode folder>. */
  scratch: string;
  say: (line: string) => void;
}

export interface FolderCheck { folder: string; proxy: ProxyName; compared: number; differing: string[] }

/** The committed simulator folders of one experiment (sim, sim-haproxy …), each with its proxy. */
export function simFolders(reportsDir: string, name: string): Array<{ folder: string; proxy: ProxyName }> {
  const seen = new Set<string>();
  for (const rel of committedFiles(join(reportsDir, name))) {
    const top = rel.split('/')[0];
    if (rel.includes('/') && /^sim(-|$)/.test(top)) seen.add(top);
  }
  return [...seen].sort().map((folder) => {
    const proxy = folder === 'sim' ? 'fulcrum' : folder.slice('sim-'.length);
    if (!isProxyName(proxy) || modeFolder('sim', proxy) !== folder) {
      throw new CheckInputError(`${join(reportsDir, name, folder)}: not a simulator folder of a known proxy; expected sim, ${PROXY_NAMES.filter((p) => p !== 'fulcrum').map((p) => `sim-${p}`).join(', ')}`);
    }
    return { folder, proxy };
  });
}

/** The proxy a results folder's top summary.json names: absent means Fulcrum's own. */
async function proxyOfSummary(path: string): Promise<string> {
  let parsed: { proxy?: unknown };
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new CheckInputError(`${path}: cannot read its "proxy": ${(e as Error).message.split('\n')[0]}`);
  }
  return typeof parsed.proxy === 'string' ? parsed.proxy : 'fulcrum';
}

const proxyWords = (p: string): string => (p === 'fulcrum' ? 'no "proxy" (Fulcrum\'s own)' : `"proxy": "${p}"`);

/** Re-runs one experiment for every proxy it has committed simulator results of, and compares. */
export async function checkExperiment(name: string, opts: CheckOptions): Promise<FolderCheck[]> {
  const out: FolderCheck[] = [];
  for (const { folder, proxy } of simFolders(opts.reportsDir, name)) {
    // Each proxy's run takes that proxy's calibration (network.calibration: true).
    const plan = await loadExperiment(join(opts.experimentsDir, `${name}.json`), { proxy });
    const committed = join(opts.reportsDir, name, folder);
    const said = await proxyOfSummary(join(committed, 'summary.json'));
    if (said !== proxy) {
      throw new CheckInputError(`${join(committed, 'summary.json')}: says ${proxyWords(said)} but sits in ${folder}/; expected ${proxyWords(proxy)}`);
    }
    const fresh = join(opts.scratch, name, folder);
    const started = performance.now();
    // The same run as `npm run sim FILE -- --proxy <proxy>`: that proxy's model.
    await runPlan(plan, { outDir: fresh, writeRequests: false, proxy });
    const files = committedFiles(committed);
    const differing: string[] = [];
    for (const rel of files) {
      const want = await readFile(join(committed, rel));
      const got = await readFile(join(fresh, rel)).catch(() => undefined);
      if (!got || !want.equals(got)) differing.push(join(committed, rel) + (got ? '' : ' (not written)'));
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    opts.say(`${name}${proxy === 'fulcrum' ? '' : ` (${proxy})`}: ${files.length - differing.length}/${files.length} identical (${seconds} s)`);
    for (const d of differing) opts.say(`  differs: ${d}`);
    out.push({ folder, proxy, compared: files.length, differing });
  }
  return out;
}

/** The result files git tracks under `dir`, relative to it (the committed baseline). */
function committedFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out = execFileSync('git', ['ls-files', '-z', '--', '.'], { cwd: dir, encoding: 'utf8' });
  return out.split('\0').filter(Boolean).sort();
}
