// Which backend URLs the proxy will talk to. Only an origin (scheme, host, port) on this
// machine, unless the operator lists more hosts: an admin call must not turn the proxy
// into a way to reach the metadata service or the rest of the network (SSRF).
import { isLoopbackHost } from '../../http/security.ts';

export type UrlCheck = { ok: true; origin: string } | { ok: false; message: string };

/**
 * `allowHosts` entries are hostnames or addresses, compared exactly (`10.0.0.7`, `api.internal`);
 * `'any'` is for hosts the operator named (DNS discovery), which need no allow-list.
 */
export function checkBackendUrl(text: string, allowHosts: readonly string[] | 'any' = []): UrlCheck {
  let url: URL;
  try { url = new URL(text); } catch { return { ok: false, message: 'must be an absolute URL like http://127.0.0.1:9001' }; }
  if (url.protocol !== 'http:') return { ok: false, message: 'scheme must be http' };
  if (url.username || url.password) return { ok: false, message: 'must not contain credentials' };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { ok: false, message: 'must be an origin only (no path, query or fragment)' };
  }
  const host = url.hostname;
  if (allowHosts !== 'any' && !isLoopbackHost(host) && !allowHosts.includes(host.replace(/^\[|\]$/g, ''))) {
    return { ok: false, message: `host ${host} is not loopback and not in the allow-list` };
  }
  return { ok: true, origin: url.origin };
}
