// npm run export -- FILE --to haproxy|nginx|caddy|fulcrum [--variant NAME] [--sweep VALUE] [--seed N]
// Prints the config the live runner would run the experiment with, ready to adapt. Exit
// codes: 0 printed, 2 invalid arguments or experiment, or settings the target cannot
// express (every one listed, one line each).
import { parseArgs } from 'node:util';
import { ExperimentError, loadExperiment } from '../../experiments/schema.ts';
import { parseProxyFlag } from '../../experiments/proxies.ts';
import { parseSeedFlag } from '../../experiments/cli-shared.ts';
import { EXPORTERS, chooseRun, fulcrumCommand } from './export.ts';

const USAGE = `usage: npm run export -- FILE --to haproxy|nginx|caddy|fulcrum [options]

  FILE            experiment file (JSON)
  --to PROXY      haproxy: haproxy.cfg for HAProxy 2.6; nginx: nginx.conf for NGINX 1.22;
                  caddy: Caddy 2.6's JSON config; fulcrum: the proxy's --config JSON
  --variant NAME  the variant to export (default: the file's first)
  --sweep VALUE   the sweep point to export (default: the first value)
  --seed N        replace the file's seed
  --help          this text

Servers s1…sN get placeholder addresses (192.0.2.x); edit them before use.`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: { to: { type: 'string' }, variant: { type: 'string' }, sweep: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', default: false } },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const problems: string[] = [];
  if (positionals.length !== 1) problems.push(positionals.length ? 'expected one experiment file' : 'FILE: missing; give an experiment file');
  if (values.to === undefined) problems.push(`--to: missing; allowed: ${Object.keys(EXPORTERS).join(', ')}`);
  const { proxy, error: toError } = parseProxyFlag('--to', values.to);
  if (values.to !== undefined && toError) problems.push(toError);
  else if (proxy && !EXPORTERS[proxy]) problems.push(`--to: "${proxy}" has no exporter yet; allowed: ${Object.keys(EXPORTERS).join(', ')}`);
  const { seed, error: seedError } = parseSeedFlag(values.seed);
  if (seedError) problems.push(seedError);
  if (problems.length || !proxy) { process.stderr.write(`${problems.join('\n')}\n\n${USAGE}\n`); return 2; }

  let plan;
  try {
    plan = await loadExperiment(positionals[0], { seed });
  } catch (e) {
    if (e instanceof ExperimentError) { process.stderr.write(`${e.message}\n`); return 2; }
    throw e;
  }
  const chosen = chooseRun(plan, { to: proxy, variant: values.variant, sweep: values.sweep });
  if ('problems' in chosen) { process.stderr.write(`${chosen.problems.join('\n')}\n`); return 2; }
  const out = EXPORTERS[proxy]!(plan, chosen.run, chosen.notes);
  if (out.problems) {
    process.stderr.write(`${plan.source}${chosen.run.dir ? ` (${chosen.run.dir})` : ''} cannot be exported to ${proxy}:\n${out.problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 2;
  }
  process.stdout.write(out.text);
  for (const note of out.notes ?? []) process.stderr.write(`# ${note}\n`);
  if (proxy === 'fulcrum') {
    for (const note of chosen.notes) process.stderr.write(`exported ${note}\n`);
    process.stderr.write(`run it with: ${fulcrumCommand(chosen.run.config)}\n`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
