// The proxies `npm run live -- --proxy NAME` can measure: one launcher per ProxyName, each
// in its own folder or file here. A name in PROXY_NAMES without a launcher is refused with
// the list of those that have one; so is an experiment the proxy cannot express, before
// anything starts.
import type { ProxyName } from '../../../experiments/proxies.ts';
import { PROXY_MODELS } from '../../../experiments/proxies/models.ts';
import type { ExperimentPlan } from '../../../experiments/schema.ts';
import { launchFulcrum } from './fulcrum.ts';
import { caddyLauncher } from './caddy/launcher.ts';
import { haproxyLauncher } from './haproxy/launcher.ts';
import { nginxLauncher } from './nginx/launcher.ts';
import type { ProxyLauncher } from './types.ts';

export const LAUNCHERS: Partial<Record<ProxyName, ProxyLauncher>> = {
  fulcrum: launchFulcrum,
  haproxy: haproxyLauncher,
  nginx: nginxLauncher,
  caddy: caddyLauncher,
};


/** The launcher of `name`, or the one-line problem naming the proxies that have one. */
export function proxyLauncher(name: ProxyName): { launcher: ProxyLauncher } | { problem: string } {
  const launcher = LAUNCHERS[name];
  return launcher ? { launcher } : { problem: `--proxy: "${name}" cannot run live yet; allowed: ${Object.keys(LAUNCHERS).join(', ')}` };
}

/** Every setting of every run of `plan` that `name` cannot express, prefixed by the run's folder when there are several. */
export function planProblems(name: ProxyName, plan: Pick<ExperimentPlan, 'runs'>): string[] {
  const model = PROXY_MODELS[name];
  if (!model) return [];
  return plan.runs.flatMap((run) => model.problems(run.config).map((p) => (run.dir ? `${run.dir}: ${p}` : p)));
}
