// Shared by the report tests: fixture locations and a scratch copy to build reports into,
// so the fixtures themselves are never written to.
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const RESULTS = join(FIXTURES, 'results');
export const EXPERIMENTS = join(FIXTURES, 'experiments');
export const INVALID = join(FIXTURES, 'invalid');

export const fixtureOptions = { root: RESULTS, experimentsDir: EXPERIMENTS };

/** A fresh copy of the fixture results; remove it with the returned function. */
export async function scratchCopy(): Promise<{ root: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fulcrum-report-'));
  const root = join(dir, 'reports');
  await cp(RESULTS, root, { recursive: true });
  return { root, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every file under `dir` (relative path → bytes), for byte-for-byte comparison. */
export async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dir, path), await readFile(path));
  }
  return out;
}
