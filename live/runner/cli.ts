// npm run live -- FILE [--proxy NAME] [--runtime process|docker] [--docker-base IMAGE] [--out DIR | --update] [--no-requests] [--seed N] [--metrics MS]
// Runs an experiment against real replicas and a real proxy in its own process; writes the same files as
// `npm run sim`. Exit codes: 0 done, 2 invalid experiment or arguments, 1 a run failed
// (including "no Docker engine" for --runtime docker: never a silent fallback).
import { parseArgs } from 'node:util';
import { ExperimentError, loadExperiment } from '../../experiments/schema.ts';
import { summaryTable } from '../../experiments/table.ts';
import { DEFAULT_EXPERIMENT, parseSeedFlag } from '../../experiments/cli-shared.ts';
import { defaultOutDir } from '../../experiments/run-files.ts';
import { parseProxyFlag } from '../../experiments/proxies.ts';
import { runLivePlan } from './run.ts';
import { planProblems, proxyLauncher } from './proxies/index.ts';
import { killAllGroups, killAllGroupsNow } from './proxies/process-group.ts';
import { ProcessRuntime } from './runtime/process.ts';
import { DEFAULT_BASE_IMAGE, DockerRuntime, assertDockerEngine, buildReplicaImage } from './runtime/docker.ts';
import type { Runtime } from './runtime/types.ts';

const USAGE = `usage: npm run live -- FILE [options]

  FILE                 experiment file (JSON); without one, the default ${DEFAULT_EXPERIMENT}
  --proxy NAME         the proxy under test (default fulcrum, Fulcrum's own), run in its own
                       process; results of another go to live-NAME/ instead of live/
  --runtime R          process (default: child processes) or docker (containers, --network host)
  --docker-base IMAGE  base image for the replica image (default ${DEFAULT_BASE_IMAGE},
                       or $FULCRUM_DOCKER_BASE); without registry access build one with
                       live/docker/local-base.sh and pass fulcrum-node24-base:local
  --out DIR            write results to DIR instead of runs/<name>/live[-NAME] (git-ignored)
  --update             write to reports/<name>/live[-NAME]: replace the committed results
                       (then npm run report redraws reports/<name>/)
  --no-requests        skip requests.csv
  --seed N             replace the file's seed
  --metrics MS         record the proxy's and replicas' metrics every MS ms into each run's
                       metrics.om (OpenMetrics; import with promtool tsdb create-blocks-from)
  --help               this text`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        proxy: { type: 'string' },
        runtime: { type: 'string', default: 'process' },
        'docker-base': { type: 'string' },
        out: { type: 'string' },
        update: { type: 'boolean', default: false },
        'no-requests': { type: 'boolean', default: false },
        seed: { type: 'string' },
        metrics: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length > 1 || (values.runtime !== 'process' && values.runtime !== 'docker')) {
    process.stderr.write(`${positionals.length > 1 ? 'expected one experiment file' : `--runtime: got "${values.runtime}"; allowed: process, docker`}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.out !== undefined && values.update) { process.stderr.write('--out and --update: give one (--update writes to reports/<name>/live)\n'); return 2; }
  const { proxy, error: proxyError } = parseProxyFlag('--proxy', values.proxy);
  if (proxyError !== undefined) { process.stderr.write(`${proxyError}\n`); return 2; }
  const launchable = proxyLauncher(proxy);
  if ('problem' in launchable) { process.stderr.write(`${launchable.problem}\n`); return 2; }
  const { seed, error: seedError } = parseSeedFlag(values.seed);
  if (seedError) { process.stderr.write(`${seedError}\n`); return 2; }
  const metricsIntervalMs = values.metrics === undefined ? undefined : Number(values.metrics);
  if (metricsIntervalMs !== undefined && !(Number.isInteger(metricsIntervalMs) && metricsIntervalMs >= 100 && metricsIntervalMs <= 60_000)) {
    process.stderr.write(`--metrics: got "${values.metrics}"; allowed: an integer 100..60000 (ms between scrapes)\n`);
    return 2;
  }
  let plan;
  try {
    plan = await loadExperiment(positionals[0] ?? DEFAULT_EXPERIMENT, { seed, proxy });
  } catch (e) {
    if (e instanceof ExperimentError) { process.stderr.write(`${e.message}\n`); return 2; }
    throw e;
  }
  // Before any replica starts: every setting the proxy cannot express, not just the first run's.
  const problems = [...new Set(planProblems(proxy, plan))];
  if (problems.length > 0) {
    process.stderr.write(`${plan.name} cannot run on ${proxy}:\n  ${problems.join('\n  ')}\n(npm run export -- FILE --to ${proxy} lists the same)\n`);
    return 2;
  }

  const log = (line: string) => process.stderr.write(`${line}\n`);
  let runtime: Runtime;
  if (values.runtime === 'docker') {
    try {
      log(`docker engine ${await assertDockerEngine()}`);
      const base = values['docker-base'] ?? process.env.FULCRUM_DOCKER_BASE ?? DEFAULT_BASE_IMAGE;
      runtime = new DockerRuntime(await buildReplicaImage(base));
    } catch (e) {
      log((e as Error).message);
      return 1;
    }
  } else {
    const processes = new ProcessRuntime(log);
    process.once('exit', () => processes.killAllNow()); // last resort if we die mid-run
    runtime = processes;
  }
  process.once('exit', killAllGroupsNow);
  // Whatever happens, leave no proxy or replica behind: Ctrl-C, SIGTERM or a failed run.
  const stop = (signal: string) => {
    log(`${signal}: stopping the proxy and the replicas`);
    void Promise.all([killAllGroups(), runtime.closeAll()]).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const outDir = values.out ?? defaultOutDir(plan, 'live', values.update, proxy);
  try {
    const results = await runLivePlan(plan, { runtime, proxy, outDir, writeRequests: !values['no-requests'], log, metricsIntervalMs });
    process.stdout.write(`${summaryTable(results)}\n\nseed ${plan.runs[0]?.config.seed}; results in ${outDir}\n`);
    return 0;
  } catch (e) {
    log(`live run failed: ${(e as Error).message}`);
    await runtime.closeAll();
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
