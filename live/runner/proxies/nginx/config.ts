// NginxSettings + the servers → a complete nginx.conf for NGINX 1.22 (open source). The
// runner starts NGINX with it (`nginx -p <workDir> -c nginx.conf`) and `npm run export --
// --to nginx` prints it, so what is measured and what a user deploys are the same text.
// Directive meanings: the documentation of ngx_core_module, ngx_http_upstream_module,
// ngx_http_proxy_module and ngx_http_log_module (nginx.org/en/docs/).
import type { NginxBalance, NginxSettings } from '../../../../experiments/proxies/nginx-settings.ts';

/** The access log's tag: every line NGINX logs for a proxied request starts with it (access-log.ts). */
export const ACCESS_LOG_TAG = 'fulcrum-access';

/** The upstream block's name: NGINX logs it as `$upstream_addr` when no server was live. */
export const UPSTREAM_NAME = 'servers';

/**
 * One request per line, tab-separated (the lists below contain ", "), the request id last:
 * $msec (log time = end, epoch s.ms), $request_time (s.ms since the first byte was read),
 * $status, the worker's $pid, then per attempt, comma-separated in order (ngx_http_upstream
 * module, "Embedded variables"): $upstream_addr, $upstream_status, $upstream_connect_time,
 * $upstream_response_time — unlike HAProxy, NGINX names every server it tried.
 */
export const LOG_FORMAT = [ACCESS_LOG_TAG, '$msec', '$request_time', '$status', '$pid', '$upstream_addr', '$upstream_status',
  '$upstream_connect_time', '$upstream_response_time', '$http_x_request_id'].join('\\t');

/** Where the launcher asks which configuration the workers run (never logged, not in exported configs). */
export const GENERATION_PATH = '/fulcrum-generation';

/**
 * Kept-alive connections to the servers, per worker (`keepalive`): the experiment's proxy
 * reuses connections to its backends (Fulcrum's pools; HAProxy's http-keep-alive), so NGINX
 * does too, over HTTP/1.1 with the client's Connection header dropped.
 */
export const UPSTREAM_KEEPALIVE = 32;

/** `zone` size: one small upstream's shared state fits many times over (the module's example uses 64k). */
export const ZONE_SIZE = '256k';

export interface NginxBackend {
  id: string;
  url: string;
  weight: number;
  /** The server's address as written instead of the url's, e.g. `unix:s1.sock` (a path relative to NGINX's cwd). */
  name?: string;
}

export interface NginxConfigInput {
  settings: NginxSettings;
  /** The servers present now; `url` is http://host:port. Weight 0 is written `down`. */
  backends: NginxBackend[];
  /** The `listen` address: `127.0.0.1:41234` (a socket the launcher passes in, see launcher.ts) or `8080`. */
  listen: string;
  /** Lines put at the top as `#` comments. */
  comments?: string[];
  /** `user` for the workers (the launcher running as root: `root`, so they reach its work folder). */
  user?: string;
  /** The launcher's config number, answered on GENERATION_PATH: tells when reloaded workers serve. */
  generation?: number;
}

/** A weight NGINX can take (`weight=` is a positive integer; 0 is `down`), or a one-line problem naming the server. */
export function nginxWeight(id: string, weight: number): { weight: number } | { problem: string } {
  if (Number.isInteger(weight) && weight >= 0) return { weight };
  return { problem: `${id}: weight ${weight} cannot be expressed; NGINX weights are positive integers (0: down)` };
}

/**
 * The server's address as written in the upstream block and logged in `$upstream_addr`:
 * `unix:s1.sock` for a socket, else `127.0.0.1:41234` from `http://127.0.0.1:41234`.
 * `hash … consistent` places each server by crc32 of exactly this text
 * (ngx_http_upstream_hash_module.c, ngx_http_upstream_init_chash_peers).
 */
export function serverAddress(b: Pick<NginxBackend, 'url' | 'name'>): string {
  if (b.name !== undefined) return b.name;
  const { hostname, port, protocol } = new URL(b.url);
  if (protocol !== 'http:') throw new Error(`server url ${b.url}: expected http://host:port`);
  return `${hostname}:${port || '80'}`;
}

function balanceLine(balance: NginxBalance): string | undefined {
  switch (balance.method) {
    case 'round-robin': return undefined; // no directive: smooth weighted round robin
    case 'least_conn': return 'least_conn;';
    case 'ip_hash': return 'ip_hash;';
    case 'hash': return `hash $remote_addr${balance.consistent ? ' consistent' : ''};`;
    case 'random': return balance.two ? 'random two least_conn;' : 'random;';
  }
}

/** `fail_timeout` is parsed in whole seconds (ngx_parse_time with is_sec: "ms" is refused). */
function failTimeout(settings: NginxSettings): { text: string } | { problem: string } {
  const ms = settings.failTimeoutMs;
  if (Number.isInteger(ms / 1000) && ms >= 0) return { text: `${ms / 1000}s` };
  return { problem: `fail_timeout ${ms} ms cannot be expressed; NGINX takes whole seconds` };
}

/** The upstream block's lines (indented), or the problems of its servers. */
function upstreamLines(input: NginxConfigInput): { lines: string[] } | { problems: string[] } {
  const { settings } = input;
  const problems: string[] = [];
  const fail = failTimeout(settings);
  if ('problem' in fail) problems.push(fail.problem);
  const servers: string[] = [];
  for (const b of input.backends) {
    const w = nginxWeight(b.id, b.weight);
    if ('problem' in w) { problems.push(w.problem); continue; }
    const weight = w.weight === 0 ? 'down' : `weight=${w.weight}`;
    servers.push(`server ${serverAddress(b)} ${weight} max_fails=${settings.maxFails}${'text' in fail ? ` fail_timeout=${fail.text}` : ''}; # ${b.id}`);
  }
  if (problems.length > 0) return { problems };
  const balance = balanceLine(settings.balance);
  return {
    lines: [
      ...(settings.zone ? [`zone ${UPSTREAM_NAME} ${ZONE_SIZE};`] : []),
      // The balancing directive comes before `keepalive` (ngx_http_upstream_keepalive_module).
      ...(balance ? [balance] : []),
      ...servers,
      `keepalive ${UPSTREAM_KEEPALIVE};`,
    ],
  };
}

function proxyLines(settings: NginxSettings): string[] {
  const t = settings.timeouts;
  return [
    `proxy_pass http://${UPSTREAM_NAME};`,
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    `proxy_next_upstream ${settings.nextUpstream.length > 0 ? settings.nextUpstream.join(' ') : 'off'};`,
    `proxy_next_upstream_tries ${settings.nextUpstreamTries};`,
    `proxy_next_upstream_timeout ${settings.nextUpstreamTimeoutMs}ms;`,
    `proxy_connect_timeout ${t.connectMs}ms;`,
    `proxy_read_timeout ${t.readMs}ms;`,
    `proxy_send_timeout ${t.sendMs}ms;`,
  ];
}

/** The complete nginx.conf, or every problem (one line each) when a server or setting cannot be expressed. */
export function nginxConfig(input: NginxConfigInput): { text: string } | { problems: string[] } {
  const { settings } = input;
  const upstream = upstreamLines(input);
  if ('problems' in upstream) return upstream;
  const indent = (n: number) => (l: string) => `${'  '.repeat(n)}${l}`;
  const lines = [
    ...(input.comments ?? []).map((c) => `# ${c}`),
    // Foreground under its caller, a master that reloads on SIGHUP; every file in the prefix (-p).
    'daemon off;',
    'master_process on;',
    ...(input.user ? [`user ${input.user};`] : []),
    `worker_processes ${settings.workerProcesses};`,
    'pid nginx.pid;',
    'error_log error.log notice;',
    '',
    'events {',
    '  worker_connections 4096;',
    '}',
    '',
    'http {',
    // Temporary files in the prefix too (Debian's build puts them under /var/lib/nginx).
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${k}_temp;`),
    `  log_format fulcrum "${LOG_FORMAT}";`,
    '  access_log access.log fulcrum;',
    '',
    `  upstream ${UPSTREAM_NAME} {`,
    ...upstream.lines.map(indent(2)),
    '  }',
    '',
    '  server {',
    `    listen ${input.listen};`,
    '    location / {',
    ...proxyLines(settings).map(indent(3)),
    '    }',
    ...(input.generation !== undefined ? [
      `    location = ${GENERATION_PATH} {`,
      '      access_log off;',
      `      return 200 "${input.generation}";`,
      '    }',
    ] : []),
    '  }',
    '}',
    '',
  ];
  return { text: lines.join('\n') };
}
