// How each proxy spells the balancing an experiment's run asks for, in its own vocabulary
// (HAProxy `leastconn`, NGINX `ip_hash`, Caddy `random_choose 2`): the four-proxy page names
// a run by it, since one variant can mean another algorithm on another proxy (a5's
// `peak-ewma` runs as HAProxy's `leastconn`). Read from each proxy's settings contract, the
// same translation its model and config generator use; null where it has none (Fulcrum's
// own proxy speaks the experiment's vocabulary) or the run cannot be expressed.
import type { ProxyName } from '../experiments/proxies.ts';
import { haproxySettings } from '../experiments/proxies/haproxy.ts';
import type { HaproxyBalance } from '../experiments/proxies/haproxy-settings.ts';
import { caddySettings } from '../experiments/proxies/caddy.ts';
import type { CaddySelection } from '../experiments/proxies/caddy-settings.ts';
import { nginxSettings } from '../experiments/proxies/nginx.ts';
import type { NginxBalance } from '../experiments/proxies/nginx-settings.ts';
import type { RunConfig } from '../experiments/schema.ts';

function haproxyWords(b: HaproxyBalance): string {
  switch (b.algorithm) {
    case 'random': return `random(${b.draws})`;
    case 'source': return `source ${b.hashType.method}${b.hashBalanceFactor ? ` balance-factor ${b.hashBalanceFactor}` : ''}`;
    default: return b.algorithm;
  }
}

/** As written in the upstream block; round robin is NGINX's default (no directive). */
function nginxWords(b: NginxBalance): string {
  switch (b.method) {
    case 'hash': return `hash $remote_addr${b.consistent ? ' consistent' : ''}`;
    case 'random': return b.two ? 'random two least_conn' : 'random';
    default: return b.method;
  }
}

/** `lb_policy` as the Caddyfile writes it. */
const caddyWords = (s: CaddySelection): string => (s.policy === 'random_choose' ? `random_choose ${s.choose}` : s.policy);

const WORDS: Record<ProxyName, (cfg: RunConfig) => string | null> = {
  fulcrum: () => null,
  haproxy: (cfg) => { const t = haproxySettings(cfg); return t.settings ? haproxyWords(t.settings.balance) : null; },
  nginx: (cfg) => { const t = nginxSettings(cfg); return t.settings ? nginxWords(t.settings.balance) : null; },
  caddy: (cfg) => { const t = caddySettings(cfg); return t.settings ? caddyWords(t.settings.selection) : null; },
};

export function balanceWords(proxy: ProxyName, cfg: RunConfig): string | null {
  return WORDS[proxy](cfg);
}
