// `npm run server -- --id s1 --port 9001 [--host 127.0.0.1] [--service-time exponential:5]
//   [--concurrency 4] [--seed N] [--control-token T] [--log-requests]`
// Prints one JSON ready line on stdout once listening; SIGTERM/SIGINT close gracefully.
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flagProblem } from '../core/did-you-mean.ts';
import { parseDistribution } from '../core/distributions.ts';
import { startReplica } from './replica.ts';
import { listenErrorLine } from '../http/busy-port.ts';

/** The --port asked for, so a failed bind can name it. */
let requestedPort = 0;

const USAGE = `usage: npm run server -- --id s1 [options]

  --id ID               replica name in answers and logs (default s1)
  --port N              port to listen on (default 0: any free port, printed in the ready line)
  --host HOST           address to listen on (default 127.0.0.1)
  --socket PATH         also serve on this Unix socket (replaces a stale file there)
  --service-time DIST   drawn per request: constant:MS, exponential:MEAN_MS, uniform:MIN_MS:MAX_MS,
                        lognormal:MEDIAN_MS:SIGMA (default constant:0)
  --concurrency N       requests served at once; more wait in a queue (default 0: unlimited)
  --seed N              seed of the service-time stream (default 1)
  --control-token T     bearer token for POST /control (fault injection); or env FULCRUM_CONTROL_TOKEN
  --log-requests        one JSON line per request on stdout
  --restart-delay-ms MS on a restart of the same container (a marker in its /tmp), wait MS before
                        listening: Docker restarts at once, the experiment says how long the outage is
  --help                this text

Prints one JSON ready line on stdout once listening; SIGTERM/SIGINT close gracefully.
Exit codes: 0 closed, 2 bad flag or port in use, 1 anything else.`;

function fail(message: string): never {
  process.stderr.write(`server: ${message} (npm run server -- --help lists the flags)\n`);
  process.exit(2);
}

function intFlag(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name}: got "${text}"; allowed: an integer ${min}..${max}`);
  return n;
}

const OPTIONS = {
  id: { type: 'string', default: 's1' },
  port: { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  socket: { type: 'string' },
  'service-time': { type: 'string', default: 'constant:0' },
  concurrency: { type: 'string' },
  seed: { type: 'string', default: '1' },
  'control-token': { type: 'string' },
  'log-requests': { type: 'boolean', default: false },
  'restart-delay-ms': { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: OPTIONS,
      strict: true,
    }));
  } catch (err) {
    fail(flagProblem((err as Error).message, Object.keys(OPTIONS)));
  }
  if (values.help) { process.stdout.write(USAGE + '\n'); return; }

  if (!/^[A-Za-z0-9._-]{1,64}$/.test(values.id)) fail(`--id: got "${values.id}"; allowed: 1-64 of A-Z a-z 0-9 . _ -`);
  let serviceTime;
  try { serviceTime = parseDistribution(values['service-time']); } catch (err) { fail(`--service-time: ${(err as Error).message}`); }
  const port = intFlag('port', values.port, 0, 0, 65_535);
  requestedPort = port;
  const concurrency = intFlag('concurrency', values.concurrency, 0, 0, 1_000_000);
  const controlToken = values['control-token'] ?? process.env.FULCRUM_CONTROL_TOKEN;
  await delayIfRestarted(values.id, intFlag('restart-delay-ms', values['restart-delay-ms'], 0, 0, 3_600_000));

  const replica = await startReplica({
    id: values.id, host: values.host, port, socketPath: values.socket, serviceTime, concurrency, seed: values.seed, controlToken,
    // stdout is a pipe for supervisors: writes are synchronous on Linux, so a line survives a SIGKILL right after.
    onRequestLog: values['log-requests'] ? (entry) => process.stdout.write(JSON.stringify(entry) + '\n') : undefined,
  });
  process.stdout.write(JSON.stringify({
    event: 'ready', server: values.id, host: values.host, port: replica.port, url: replica.url, pid: process.pid,
  }) + '\n');

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    replica.close().then(() => {
      process.stderr.write(`server ${values.id}: ${signal}, closed\n`);
      process.exit(0);
    }, () => process.exit(1));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Docker's restart policy brings a killed container back within ~100 ms; the experiment says
 * how long the outage lasts. A marker in the container's own /tmp (which survives a restart
 * of the same container) tells a restart from the first start, and the restart waits.
 */
async function delayIfRestarted(id: string, delayMs: number): Promise<void> {
  if (delayMs <= 0) return;
  const marker = join(tmpdir(), `fulcrum-${id}.started`);
  if (existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, delayMs));
  writeFileSync(marker, String(process.pid));
}

main().catch((err) => {
  const busy = listenErrorLine(err, { '--port': requestedPort });
  if (busy) { process.stderr.write(`server: ${busy}\n`); process.exit(2); }
  process.stderr.write(`server: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
