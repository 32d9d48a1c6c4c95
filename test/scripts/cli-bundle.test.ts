// scripts/cli.mjs runs the command-line tools from an esbuild bundle; it must never run a
// stale one. On a throw-away project: an edit rebuilds, a touch (same bytes) does not, and
// import.meta.url keeps naming the source file inside the bundle.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliBundle } from '../../scripts/cli.mjs';

const bundleOf = cliBundle as (name: string, root: string) => Promise<string>;
const root = mkdtempSync(join(tmpdir(), 'fulcrum-cli-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(join(root, file, '..'), { recursive: true });
  writeFileSync(join(root, file), text);
}
const run = (bundle: string) => execFileSync(process.execPath, [bundle], { encoding: 'utf8' }).trim();

describe('CLI bundles (scripts/cli.mjs)', () => {
  write('tsconfig.json', '{}');
  write('package.json', '{"type":"module"}');
  write('scripts/cli.mjs', '');
  write('experiments/word.ts', "export const word: string = 'one';\nexport const here = import.meta.url;\n");
  write('sim/cli.ts', "import { here, word } from '../experiments/word.ts';\nconsole.log(word, here, 'import.meta.url');\n");

  it('rebuilds when a source changes, not when only its mtime does', async () => {
    const first = await bundleOf('sim', root);
    const wordUrl = pathToFileURL(join(root, 'experiments/word.ts')).href;
    expect(run(first)).toBe(`one ${wordUrl} import.meta.url`);
    const builtAt = statSync(first).mtimeMs;

    const later = new Date(Date.now() + 5_000);
    utimesSync(join(root, 'experiments/word.ts'), later, later);
    expect(await bundleOf('sim', root)).toBe(first);
    expect(statSync(first).mtimeMs).toBe(builtAt);

    write('experiments/word.ts', readFileSync(join(root, 'experiments/word.ts'), 'utf8').replace("'one'", "'two'"));
    const second = await bundleOf('sim', root);
    expect(second).not.toBe(first);
    expect(run(second)).toBe(`two ${wordUrl} import.meta.url`);
  });

  it('rebuilds without the files the entry no longer imports', async () => {
    const before = await bundleOf('sim', root);
    write('sim/cli.ts', "console.log('alone');\n");
    rmSync(join(root, 'experiments/word.ts'));
    const after = await bundleOf('sim', root);
    expect(after).not.toBe(before);
    expect(run(after)).toBe('alone');
  });
});
