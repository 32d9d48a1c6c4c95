// Whether a config the project wrote for a proxy is one the proxy takes: each binary's own
// checker (haproxy -c, nginx -t, caddy validate) on the text, in a test's work folder, throwing
// with the binary's words when it refuses; and the golden-file tests of the config generators.
// Regenerate golden files after an intended change: FULCRUM_UPDATE_GOLDEN=1 npx vitest run <the test file>
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

/** Runs a checker; its refusal becomes an error naming the file, with what the binary said. */
function refusedWith(what: string, run: () => void, said: (e: { stdout?: Buffer; stderr?: Buffer }) => string): void {
  try {
    run();
  } catch (e) {
    throw new Error(`${what}: ${said(e as { stdout?: Buffer; stderr?: Buffer })}`);
  }
}

/** `haproxy -c`; the stats socket moves into `work`. `fds`: sockets it inherits as fd 3, 4 … */
export function haproxyCheck(work: string, text: string, name: string, fds: number[] = []): void {
  const file = join(work, `${name}.cfg`);
  writeFileSync(file, text.replace(/stats socket \S+/, `stats socket ${join(work, 'admin.sock')}`));
  refusedWith(`haproxy -c refused ${name}.cfg`, () => execFileSync('haproxy', ['-c', '-f', file], { stdio: ['ignore', 'pipe', 'pipe', ...fds] }), (e) => String(e.stderr));
}

/** `nginx -t` with the config's prefix and error log in a folder of its own under `work` (nothing touches /var/log/nginx or /run). */
export function nginxCheck(work: string, text: string, name: string): void {
  const prefix = mkdtempSync(join(work, `${name}-`));
  writeFileSync(join(prefix, 'nginx.conf'), text);
  refusedWith(`nginx -t refused ${name}`, () => execFileSync('nginx', ['-t', '-q', '-p', `${prefix}/`, '-c', 'nginx.conf', '-e', 'error.log'], { stdio: ['ignore', 'pipe', 'pipe'] }), (e) => String(e.stderr));
}

/** `caddy validate`: loads and provisions every module, its storage under `work`. */
export function caddyCheck(work: string, text: string, name: string): void {
  const file = join(work, `${name}.json`);
  writeFileSync(file, text);
  refusedWith(`caddy validate refused ${name}.json`, () => execFileSync('caddy', ['validate', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'], cwd: work,
    env: { ...process.env, HOME: work, XDG_DATA_HOME: join(work, 'data'), XDG_CONFIG_HOME: join(work, 'config') },
  }), (e) => String(e.stdout).split('\n').filter((l) => /error|Error/.test(l)).join(' '));
}

/**
 * One test a case: the generated text is its golden file `<fixtures><name>.<extension>` to the
 * letter (rewritten with FULCRUM_UPDATE_GOLDEN set), and the binary's checker takes it.
 */
export function itMatchesGoldenAndPasses<S>(cases: Record<string, S>, o: { fixtures: URL; extension: string; checker: string; generate: (settings: S) => string; check: (text: string, name: string) => void }): void {
  for (const [name, settings] of Object.entries(cases)) {
    it(`${name}: matches its golden file and passes ${o.checker}`, () => {
      const text = o.generate(settings);
      const golden = new URL(`${name}.${o.extension}`, o.fixtures);
      if (process.env.FULCRUM_UPDATE_GOLDEN) writeFileSync(golden, text);
      expect(text).toBe(readFileSync(golden, 'utf8'));
      o.check(text, name);
    });
  }
}
