// npm run trace -- import FILE --format F --out OUT [--overhead-ms N] [--recorded-concurrency C] [--anonymize [--key K]]
// npm run trace -- generate --out OUT [--lines N] [--rate R] [--seed S]
// Exit codes: 0 done, 2 bad arguments or a malformed trace line (nothing written), 1 anything else.
import { parseArgs } from 'node:util';
import { parseSeedFlag } from '../cli-shared.ts';
import { generateNginxLog } from './generate.ts';
import { importTrace } from './import.ts';
import { TRACE_FORMATS, type TraceFormat, TraceError } from './record.ts';

const USAGE = `usage: npm run trace -- import FILE --format F --out OUT [options]
       npm run trace -- generate --out OUT [options]

import: read a trace (${TRACE_FORMATS.join(', ')}) and write the plain CSV trace
(timestamp,client,method,path,serviceMs) in arrival order
  --format F        ${TRACE_FORMATS.join(' | ')}
  --out OUT         the CSV to write (only once every line has parsed)
  --overhead-ms N   subtract N ms of proxy-side time from each logged upstream time (default 0)
  --recorded-concurrency C
                    the recorded servers served C requests at once (FIFO): take their
                    queueing out of the service estimate too (needs a logged server)
  --anonymize       replace clients and paths by keyed hashes (HMAC-SHA-256)
  --key K           the anonymizing key (default: a fixed one; anyone can then test a
                    guessed address against the output — pass your own secret)

generate: write a synthetic NGINX access log in the documented log_format
  --out OUT         the log to write
  --lines N         requests (default 10000)
  --rate R          mean requests per second (default 500)
  --seed S          seed (default 1)`;

const DEFAULT_KEY = 'fulcrum-trace-anonymize';

const FLAGS = {
  format: { type: 'string' }, out: { type: 'string' }, 'overhead-ms': { type: 'string' }, 'recorded-concurrency': { type: 'string' },
  anonymize: { type: 'boolean', default: false }, key: { type: 'string' },
  lines: { type: 'string' }, rate: { type: 'string' }, seed: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

/** The parsed command line, or parseArgs's message for an unknown or malformed flag. */
function parseCommandLine(argv: string[]): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof FLAGS }>> | string {
  try { return parseArgs({ args: argv, allowPositionals: true, options: FLAGS }); } catch (e) { return (e as Error).message; }
}

async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine(argv);
  if (typeof args === 'string') return usage(args);
  const { values: v, positionals } = args;
  if (v.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const [command, ...files] = positionals;
  if (!v.out) return usage('--out: required');
  if (command === 'import') {
    if (files.length !== 1) return usage(`import: expected one input file, got ${files.length}`);
    if (!TRACE_FORMATS.includes(v.format as TraceFormat)) return usage(`--format: got ${JSON.stringify(v.format)}; expected one of ${TRACE_FORMATS.join(', ')}`);
    const overheadMs = number(v['overhead-ms'] ?? '0', 0, 60_000);
    if (overheadMs === undefined) return usage(`--overhead-ms: got ${JSON.stringify(v['overhead-ms'])}; expected a number of ms, 0 … 60000`);
    const recordedConcurrency = v['recorded-concurrency'] === undefined ? undefined : number(v['recorded-concurrency'], 1, 100_000);
    if (v['recorded-concurrency'] !== undefined && (recordedConcurrency === undefined || !Number.isInteger(recordedConcurrency))) {
      return usage(`--recorded-concurrency: got ${JSON.stringify(v['recorded-concurrency'])}; expected an integer 1 … 100000`);
    }
    if (v.key !== undefined && !v.anonymize) return usage('--key: only with --anonymize');
    try {
      const r = await importTrace({
        input: files[0], format: v.format as TraceFormat, output: v.out, overheadMs, recordedConcurrency,
        anonymizeKey: v.anonymize ? v.key ?? DEFAULT_KEY : undefined,
      });
      const spanS = r.firstMs === undefined ? 0 : (r.lastMs! - r.firstMs) / 1000;
      process.stdout.write(`${v.out}: ${r.records} requests over ${spanS.toFixed(1)} s\n`);
      for (const [reason, count] of r.skipped) process.stdout.write(`  skipped ${count}: ${reason}\n`);
      return 0;
    } catch (e) {
      if (e instanceof TraceError) { process.stderr.write(`${e.message}\n`); return 2; }
      throw e;
    }
  }
  if (command === 'generate') {
    if (files.length) return usage(`generate: takes no input file, got ${files.join(' ')}`);
    const lines = number(v.lines ?? '10000', 1, 1e9);
    const rate = number(v.rate ?? '500', 1e-3, 1e7);
    const { seed, error } = parseSeedFlag(v.seed ?? '1');
    if (lines === undefined || !Number.isInteger(lines)) return usage(`--lines: got ${JSON.stringify(v.lines)}; expected an integer 1 … 1e9`);
    if (rate === undefined) return usage(`--rate: got ${JSON.stringify(v.rate)}; expected requests per second, 0.001 … 1e7`);
    if (error) return usage(error);
    await generateNginxLog({ output: v.out, lines, ratePerSec: rate, seed: seed! });
    process.stdout.write(`${v.out}: ${lines} NGINX log lines\n`);
    return 0;
  }
  return usage(`expected a command, import or generate; got ${JSON.stringify(command ?? '')}`);
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  return 2;
}

function number(text: string, min: number, max: number): number | undefined {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) && n >= min && n <= max ? n : undefined;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
);
