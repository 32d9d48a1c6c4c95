// Proxies in the report: their names as a reader says them, and what an experiment's proxy
// has results for ("predicted/measured", "predicted only").
import type { ProxyName } from '../experiments/proxies.ts';
import type { Mode } from './model.ts';

/** A Record, so a proxy added to PROXY_NAMES cannot be reported without a name. */
export const PROXY_LABELS: Record<ProxyName, string> = { fulcrum: 'Fulcrum\'s proxy', haproxy: 'HAProxy', nginx: 'NGINX', caddy: 'Caddy' };

/** "predicted/measured", "predicted only" (sim, no live yet), "measured only". */
export function enginesWord(modes: readonly Mode[]): string {
  if (modes.includes('sim') && modes.includes('live')) return 'predicted/measured';
  return modes.includes('sim') ? 'predicted only' : 'measured only';
}

/** The flag that selects a proxy on the engines' command lines: '' for Fulcrum's own (the default). */
export const proxyFlag = (proxy: ProxyName): string => (proxy === 'fulcrum' ? '' : ` -- --proxy ${proxy}`);

/** Chart ids and table files of another proxy sit beside Fulcrum's with its name in front. */
export const chartIdOf = (proxy: ProxyName, id: string): string => (proxy === 'fulcrum' ? id : `${proxy}--${id}`);
export const tableFileOf = (proxy: ProxyName, file: string): string => (proxy === 'fulcrum' ? file : `${proxy}/${file}`);
