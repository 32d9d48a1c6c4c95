// npm run report -- [EXPERIMENT ...] [--root DIR] [--experiments DIR] [--no-png] [--quiet]
// Exit codes: 0 done, 2 missing or invalid input (the message names the file), 1 a bug.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { buildReports } from './build.ts';
import { ReportInputError } from './errors.ts';

const USAGE = `usage: npm run report -- [EXPERIMENT ...] [options]

  EXPERIMENT         a folder name under reports/ (a1) or its experiment file
                     (experiments/a1.json); none = every experiment with results
  --root DIR         where results are read and reports written (default: reports)
  --experiments DIR  experiment files, for descriptions and fault markers (default: experiments)
  --no-png           skip the PNG copies of the charts
  --quiet            print nothing but errors
  --help             this text`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string', default: 'reports' },
        experiments: { type: 'string', default: 'experiments' },
        'no-png': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const say = (s: string): void => { if (!values.quiet) process.stdout.write(`${s}\n`); };
  const opts = { root: values.root, experimentsDir: values.experiments, png: !values['no-png'] };
  try {
    const names = positionals.map((p) => basename(p).replace(/\.json$/, ''));
    const { listed } = await buildReports(names, opts, (r) => {
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      const engines = r.manifest.proxies
        ? r.manifest.proxies.map((p) => `${p.proxy}: ${p.modes.join(' + ')}`).join('; ')
        : r.manifest.modes.join(' + ');
      say(`${r.name}: ${r.manifest.charts.length} charts, ${r.manifest.tables.length} tables (${engines}) → ${opts.root}/${r.name}/index.html`);
    });
    say(`index of ${listed} experiment${listed === 1 ? '' : 's'} → ${opts.root}/index.html`);
  } catch (e) {
    if (e instanceof ReportInputError) {
      process.stderr.write(`report: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
);
