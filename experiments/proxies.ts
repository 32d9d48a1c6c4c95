// The proxies Fulcrum can put under test. `npm run live -- --proxy X` runs the real one in
// its own process; `npm run sim -- --proxy X` runs its model; `npm run export -- --to X`
// prints its config. Fulcrum's own results keep the plain mode folders (sim/, live/);
// another proxy's go beside them (sim-haproxy/, live-nginx/ …). A name here that has no
// model (experiments/proxies/models.ts) or no launcher (live/runner/proxies/index.ts) yet is
// refused by that engine with the list of those that have one.
import { didYouMean } from '../core/did-you-mean.ts';

export const PROXY_NAMES = ['fulcrum', 'haproxy', 'nginx', 'caddy'] as const;
export type ProxyName = (typeof PROXY_NAMES)[number];

export function isProxyName(text: string): text is ProxyName {
  return (PROXY_NAMES as readonly string[]).includes(text);
}

/** --proxy / --to: a known proxy name, or a one-line message listing the allowed ones. */
export function parseProxyFlag(flag: string, text: string | undefined): { proxy: ProxyName; error?: undefined } | { proxy?: undefined; error: string } {
  if (text === undefined) return { proxy: 'fulcrum' };
  if (isProxyName(text)) return { proxy: text };
  return { error: `${flag}: got ${JSON.stringify(text)}; allowed: ${PROXY_NAMES.join(', ')}${didYouMean(text, PROXY_NAMES)}` };
}

/** The results folder of an engine's run against a proxy: sim, live, sim-haproxy, live-haproxy. */
export function modeFolder(mode: 'sim' | 'live', proxy: ProxyName): string {
  return proxy === 'fulcrum' ? mode : `${mode}-${proxy}`;
}
