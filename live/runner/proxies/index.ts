// The proxies `npm run live -- --proxy NAME` can measure: one launcher per ProxyName, each
// in its own folder or file here. A name in PROXY_NAMES without a launcher is refused with
// the list of those that have one.
import type { ProxyName } from '../../../experiments/proxies.ts';
import { launchFulcrum } from './fulcrum.ts';
import { haproxyLauncher } from './haproxy/launcher.ts';
import type { ProxyLauncher } from './types.ts';

export const LAUNCHERS: Partial<Record<ProxyName, ProxyLauncher>> = {
  fulcrum: launchFulcrum,
  haproxy: haproxyLauncher,
};

/** The launcher of `name`, or the one-line problem naming the proxies that have one. */
export function proxyLauncher(name: ProxyName): { launcher: ProxyLauncher } | { problem: string } {
  const launcher = LAUNCHERS[name];
  return launcher ? { launcher } : { problem: `--proxy: "${name}" cannot run live yet; allowed: ${Object.keys(LAUNCHERS).join(', ')}` };
}
