// The README's commands on a fresh clone must not change the repository: `npm run sim` writes
// to the git-ignored runs/, and `npm run report` redraws reports/ from committed files only
// (requests.csv is not in git; request-stats.json stands in for it). Tests the committed HEAD:
// uncommitted edits are not in the clone.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('a fresh clone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-clone-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('npm run sim && npm run report leave git status clean', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const clone = join(dir, 'fulcrum');
    execFileSync('git', ['clone', '--quiet', '--no-checkout', REPO, clone]);
    execFileSync('git', ['checkout', '--quiet', head], { cwd: clone });
    // `npm ci` would fetch the same locked packages; the checkout's own node_modules keeps this fast.
    symlinkSync(join(REPO, 'node_modules'), join(clone, 'node_modules'), 'dir');
    appendFileSync(join(clone, '.git', 'info', 'exclude'), 'node_modules\n');
    const run = (script: string): string => execFileSync('npm', ['run', '--silent', script], {
      cwd: clone, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run('sim')).toContain(join('runs', 'a1', 'sim'));
    run('report');
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' })).toBe('');
  }, 600_000);
});
