// The runtime every `npm run …` gets: Node 24 or newer, either the machine's own or the one
// scripts/node24.mjs fetched into .build/node24/ and linked as node_modules/.bin/node
// (npm puts that first on PATH). Node 20 is end of life; a test run on it must fail here.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const major = (version: string) => Number(/^v(\d+)\./.exec(version.trim())?.[1]);

describe('Node 24', () => {
  it('runs this test (npm test\'s node)', () => {
    expect(major(process.version)).toBeGreaterThanOrEqual(24);
  });

  it('is the `node` on the PATH npm gives scripts, so child processes and shebangs get it too', () => {
    expect(major(execFileSync('node', ['-v'], { encoding: 'utf8' }))).toBeGreaterThanOrEqual(24);
  });

  it('scripts/node24.mjs --print names a Node 24+ binary (what .ci/run and the Docker base use)', () => {
    const bin = execFileSync(process.execPath, ['scripts/node24.mjs', '--print'], { encoding: 'utf8' }).trim();
    expect(major(execFileSync(bin, ['-v'], { encoding: 'utf8' }))).toBeGreaterThanOrEqual(24);
  });
});
