// HaproxySettings + the servers → a complete haproxy.cfg for HAProxy 2.6. The runner starts
// HAProxy with it and `npm run export -- --to haproxy` prints it, so what is measured and
// what a user deploys are the same text. Keyword meanings: HAProxy's doc/configuration.txt
// (sections 3 global, 4 proxies, 5.2 server options, 8.2.4 custom log format).
import type { HaproxyBalance, HaproxySettings } from '../../../../experiments/proxies/haproxy-settings.ts';

/** The access log's tag: every line HAProxy logs for a request starts with it (access-log.ts). */
export const ACCESS_LOG_TAG = 'fulcrum-access';

/**
 * One request per line, space-separated, the request id last (it is the client's text):
 * accept time (epoch s.ms), backend/server, retries (`+` prefix: redispatched), the timers
 * Tq TR Tw Tc Tr Ta (ms, -1 when a phase never ended; Tq includes the idle time before the
 * request on a kept-alive connection, TR is receiving the request itself, so the request
 * began at accept + Tq − TR, where Ta starts), status, termination state, request id.
 */
export const LOG_FORMAT = `${ACCESS_LOG_TAG} %Ts.%ms %b/%s %rc %Tq %TR %Tw %Tc %Tr %Ta %ST %tsc %ID`;

/**
 * One thread: the proxy is then one CPU queue whose cost per request the calibration fits,
 * and HAProxy's picks are serialised exactly as the model replays them. The lab's machines
 * have two cores shared with the load generator and the replicas; more threads would only
 * add contention to what is measured.
 */
export const NBTHREAD = 1;

/** HAProxy's server weights are integers 0-256 (configuration.txt, 5.2 "weight"). */
export const MAX_WEIGHT = 256;

export interface HaproxyBackend { id: string; url: string; weight: number }

export interface HaproxyConfigInput {
  settings: HaproxySettings;
  /** The servers present at start; `url` is http://host:port. */
  backends: HaproxyBackend[];
  /** The frontend's bind address: `127.0.0.1:8080`, or `fd@3` for a socket the launcher bound. */
  bind: string;
  /** The stats socket's path (the runtime API; runtime-api.ts). */
  statsSocket: string;
  /** Lines put at the top as `#` comments. */
  comments?: string[];
  /** A second listener serving HAProxy's Prometheus exporter on /metrics (the runner's --metrics). */
  metricsBind?: string;
}

/** The settings HAProxy applies to every server, including ones added at run time. */
export function serverOptions(settings: HaproxySettings): string[] {
  const options: string[] = [];
  const { check, observe } = settings;
  if (check) {
    options.push('check', `inter ${check.interMs}ms`, `rise ${check.rise}`, `fall ${check.fall}`);
    if (check.fastinterMs !== undefined) options.push(`fastinter ${check.fastinterMs}ms`);
    if (check.downinterMs !== undefined) options.push(`downinter ${check.downinterMs}ms`);
  }
  if (observe) options.push('observe layer7', `error-limit ${observe.errorLimit}`, `on-error ${observe.onError}`);
  if (settings.slowstartMs !== undefined) options.push(`slowstart ${settings.slowstartMs}ms`);
  if (settings.maxconn !== undefined) options.push(`maxconn ${settings.maxconn}`);
  return options;
}

/** A weight HAProxy can take, or a one-line problem naming the server. */
export function haproxyWeight(id: string, weight: number): { weight: number } | { problem: string } {
  if (Number.isInteger(weight) && weight >= 0 && weight <= MAX_WEIGHT) return { weight };
  return { problem: `${id}: weight ${weight} cannot be expressed; HAProxy weights are integers 0-${MAX_WEIGHT}` };
}

/** `http://127.0.0.1:41234` → `127.0.0.1:41234` (HAProxy's server address). */
export function serverAddress(url: string): string {
  const { hostname, port, protocol } = new URL(url);
  if (protocol !== 'http:') throw new Error(`server url ${url}: expected http://host:port`);
  return `${hostname}:${port || '80'}`;
}

function balanceLines(balance: HaproxyBalance): string[] {
  switch (balance.algorithm) {
    case 'random': return [`balance random(${balance.draws})`];
    case 'source': {
      const { method, function: fn, avalanche } = balance.hashType;
      const lines = ['balance source', `hash-type ${method} ${fn}${avalanche ? ' avalanche' : ''}`];
      if (balance.hashBalanceFactor !== undefined) lines.push(`hash-balance-factor ${balance.hashBalanceFactor}`);
      return lines;
    }
    default: return [`balance ${balance.algorithm}`];
  }
}

function retryLines(settings: HaproxySettings): string[] {
  const lines = [`retries ${settings.retries}`];
  // `option redispatch <interval>`: -1 is the option's own default (redispatch on the last retry).
  if (settings.redispatch === undefined) lines.push('no option redispatch');
  else lines.push(settings.redispatch === -1 ? 'option redispatch' : `option redispatch ${settings.redispatch}`);
  lines.push(`retry-on ${settings.retryOn.length > 0 ? settings.retryOn.join(' ') : 'none'}`);
  return lines;
}

/** The complete haproxy.cfg, or every problem (one line each) when a server's weight cannot be expressed. */
export function haproxyConfig(input: HaproxyConfigInput): { text: string } | { problems: string[] } {
  const { settings, backends } = input;
  const problems: string[] = [];
  const servers: string[] = [];
  const options = serverOptions(settings).join(' ');
  for (const b of backends) {
    const w = haproxyWeight(b.id, b.weight);
    if ('problem' in w) { problems.push(w.problem); continue; }
    servers.push(`  server ${b.id} ${serverAddress(b.url)} weight ${w.weight}`);
  }
  if (problems.length > 0) return { problems };
  const t = settings.timeouts;
  const lines = [
    ...(input.comments ?? []).map((c) => `# ${c}`),
    'global',
    `  nbthread ${NBTHREAD}`,
    `  stats socket ${input.statsSocket} level admin expose-fd listeners`,
    '  log stdout format raw local0',
    '',
    'defaults',
    '  mode http',
    '  log global',
    // Keep connections to the servers open between requests (HAProxy 2.6's default, stated).
    '  option http-keep-alive',
    `  timeout connect ${t.connectMs}ms`,
    `  timeout server ${t.serverMs}ms`,
    `  timeout client ${t.clientMs}ms`,
    ...(t.queueMs !== undefined ? [`  timeout queue ${t.queueMs}ms`] : []),
    ...(t.checkMs !== undefined ? [`  timeout check ${t.checkMs}ms`] : []),
    '',
    'frontend fulcrum',
    `  bind ${input.bind}`,
    // The load generator's x-request-id becomes the request's unique id (%ID in the log).
    '  unique-id-format %[req.hdr(x-request-id)]',
    `  log-format "${LOG_FORMAT}"`,
    '  default_backend servers',
    '',
    ...(input.metricsBind ? [
      // HAProxy's built-in exporter (USE_PROMEX, in Debian's build), apart from the measured traffic.
      'frontend metrics',
      `  bind ${input.metricsBind}`,
      '  no log',
      '  http-request use-service prometheus-exporter if { path /metrics }',
      '',
    ] : []),
    'backend servers',
    ...balanceLines(settings.balance).map((l) => `  ${l}`),
    ...retryLines(settings).map((l) => `  ${l}`),
    ...(settings.check ? [`  option httpchk GET ${settings.check.path}`] : []),
    ...(options ? [`  default-server ${options}`] : []),
    ...servers,
    '',
  ];
  return { text: lines.join('\n') };
}
