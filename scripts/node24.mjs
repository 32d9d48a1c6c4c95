// Node 24 for every `npm run …` on a machine whose own node is older (Debian and Ubuntu ship
// Node 20, end of life since 2026-04-30). The npm registry carries Node itself as
// `node-<platform>-<arch>`; this script unpacks one pinned build into .build/node24/ and links
// node_modules/.bin/node to it. `npm run` puts node_modules/.bin first on PATH, so every
// script, test, child process and tsx shebang then runs on Node 24. A machine whose node is
// already 24 or newer downloads nothing. Plain Node built-ins only: it runs before npm ci.
//   node scripts/node24.mjs            link node_modules/.bin/node (the package's postinstall)
//   node scripts/node24.mjs --print    print the Node 24 binary's path (for .ci/run, Docker)
//   node scripts/node24.mjs --ci       `npm ci` run on Node 24 (`npm run setup`), so no
//                                      dependency's engines check sees the older node
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_VERSION = '24.22.3';
const MAJOR_MIN = 24;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const installDir = path.join(root, '.build', 'node24');
const installedBin = path.join(installDir, 'bin', 'node');
const linkPath = path.join(root, 'node_modules', '.bin', 'node');

function fail(message) {
  console.error(`scripts/node24.mjs: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
  return result.stdout ?? '';
}

function versionOf(bin) {
  const result = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

// The node running this script, if it is new enough and is not our own download.
function systemNodeIsEnough() {
  const major = Number(process.versions.node.split('.')[0]);
  const ours = existsSync(installedBin) && realpathSync(process.execPath) === realpathSync(installedBin);
  return major >= MAJOR_MIN && !ours;
}

// The npm that started us (npm_execpath), else the one on PATH.
function npmCommand() {
  const cli = process.env.npm_execpath;
  return cli && cli.endsWith('.js') ? [process.execPath, [cli]] : ['npm', []];
}

function installNode24() {
  if (versionOf(installedBin) === `v${NODE_VERSION}`) return installedBin;
  const pkg = `node-${process.platform}-${process.arch}@${NODE_VERSION}`;
  rmSync(installDir, { recursive: true, force: true });
  mkdirSync(installDir, { recursive: true });
  console.error(`scripts/node24.mjs: node ${process.version} is older than ${MAJOR_MIN}; fetching ${pkg} into .build/node24/`);
  // `npm pack` checks the tarball against the registry's integrity hash.
  const [npm, npmArgs] = npmCommand();
  const packed = JSON.parse(run(npm, [...npmArgs, 'pack', pkg, '--json', '--pack-destination', installDir]));
  const tarball = path.join(installDir, packed[0].filename);
  run('tar', ['-xzf', tarball, '-C', installDir, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  rmSync(tarball);
  const version = versionOf(installedBin);
  if (version !== `v${NODE_VERSION}`) fail(`${installedBin} -v printed ${version ?? 'nothing'}, expected v${NODE_VERSION}`);
  return installedBin;
}

function node24Path() {
  return systemNodeIsEnough() ? process.execPath : installNode24();
}

function linkBin(target) {
  if (!existsSync(path.dirname(linkPath))) mkdirSync(path.dirname(linkPath), { recursive: true });
  const current = lstatSync(linkPath, { throwIfNoEntry: false });
  if (current?.isSymbolicLink() && readlinkSync(linkPath) === target) return;
  if (current) rmSync(linkPath);
  symlinkSync(target, linkPath);
}

const mode = process.argv[2];
if (mode === '--print') {
  console.log(node24Path());
} else if (mode === '--ci') {
  const node = node24Path();
  const [, npmArgs] = npmCommand();
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  const args = npmArgs.length ? [...npmArgs, 'ci', '--no-audit', '--no-fund'] : ['ci', '--no-audit', '--no-fund'];
  const result = spawnSync(npmArgs.length ? node : 'npm', args, { cwd: root, env, stdio: 'inherit' });
  process.exit(result.status ?? 1);
} else if (mode === undefined) {
  if (systemNodeIsEnough()) {
    // A stale link to our download would shadow the user's own Node 24+.
    const current = lstatSync(linkPath, { throwIfNoEntry: false });
    if (current?.isSymbolicLink() && readlinkSync(linkPath) === installedBin) rmSync(linkPath);
  } else {
    linkBin(installNode24());
  }
} else {
  fail(`unknown option ${mode}; choose --print, --ci or none`);
}
