// CaddySettings + the servers → one complete Caddy 2.6 JSON config (Caddy's native format:
// `caddy run --config caddy.json`). The runner starts Caddy with it, changes membership by
// loading it again through the admin API (POST /load) and `npm run export -- --to caddy`
// prints it, so what is measured and what a user deploys are the same text. Field meanings:
// modules/caddyhttp/reverseproxy (v2.6.2): Handler, LoadBalancing, HealthChecks, HTTPTransport.
import { type CaddySelection, type CaddySettings, caddyDialPlaceholder } from '../../../../experiments/proxies/caddy-settings.ts';

/** The logger of Caddy's access log lines (caddyhttp/server.go: "http.log.access" + the server's logger name). */
export const ACCESS_LOGGER = 'http.log.access';
/** The reverse proxy's logger: its debug "upstream roundtrip" line tells every attempt (reverseproxy.go reverseProxy). */
export const PROXY_LOGGER = 'http.handlers.reverse_proxy';

export interface CaddyBackend { id: string; url: string }

export interface CaddyConfigInput {
  settings: CaddySettings;
  /** The servers, `url` http://host:port. Caddy 2.6 has no upstream weights. */
  backends: CaddyBackend[];
  /** The listener, `127.0.0.1:41234` or `:8080`. */
  listen: string;
  /** The admin endpoint: `unix//path/admin.sock` or `localhost:2019`. */
  admin: string;
  /**
   * Name the upstreams `{http.vars.sN}` and set those vars to the addresses per request:
   * ip_hash hashes the dial text (selectionpolicies.go hostByHashing: fnv32a of the client IP +
   * Upstream.String(), the raw `dial`), so names that do not carry the replicas' random ports
   * make the live counts the model's (/work/briefs/ask-caddyl.md).
   */
  namedUpstreams?: boolean;
}

/** `http://127.0.0.1:41234` → `127.0.0.1:41234` (a dial address). */
export function dialAddress(url: string): string {
  const { hostname, port, protocol } = new URL(url);
  if (protocol !== 'http:') throw new Error(`server url ${url}: expected http://host:port`);
  return `${hostname}:${port || '80'}`;
}

/** The dial text of a named server: the placeholder the model's ip_hash hashes too. */
export const upstreamName = caddyDialPlaceholder;

/** A duration in Caddy's JSON: nanoseconds (caddy.Duration accepts an integer or a Go duration string). */
const ms = (value: number): string => `${value}ms`;

function selectionPolicy(selection: CaddySelection): Record<string, unknown> {
  if (selection.policy === 'random_choose') return { policy: 'random_choose', choose: selection.choose };
  return { policy: selection.policy };
}

/** The reverse_proxy handler (modules/caddyhttp/reverseproxy.Handler). */
export function reverseProxyHandler(settings: CaddySettings, backends: CaddyBackend[], named: boolean): Record<string, unknown> {
  const handler: Record<string, unknown> = {
    handler: 'reverse_proxy',
    upstreams: backends.map((b) => ({ dial: named ? upstreamName(b.id) : dialAddress(b.url) })),
    load_balancing: {
      selection_policy: selectionPolicy(settings.selection),
      // Neither retries nor try_duration: one attempt only (LoadBalancing.tryAgain returns false at once).
      ...(settings.retries ? { retries: settings.retries } : {}),
      ...(settings.tryDurationMs > 0 ? { try_duration: ms(settings.tryDurationMs) } : {}),
      ...(settings.tryIntervalMs > 0 && (settings.retries || settings.tryDurationMs > 0) ? { try_interval: ms(settings.tryIntervalMs) } : {}),
    },
    transport: {
      protocol: 'http',
      dial_timeout: ms(settings.timeouts.dialMs),
      ...(settings.timeouts.responseHeaderMs !== undefined ? { response_header_timeout: ms(settings.timeouts.responseHeaderMs) } : {}),
    },
  };
  const health: Record<string, unknown> = {};
  if (settings.active) health.active = { uri: settings.active.uri, interval: ms(settings.active.intervalMs), timeout: ms(settings.active.timeoutMs) };
  if (settings.passive) {
    health.passive = {
      fail_duration: ms(settings.passive.failDurationMs),
      max_fails: settings.passive.maxFails,
      ...(settings.passive.unhealthyStatus.length > 0 ? { unhealthy_status: settings.passive.unhealthyStatus } : {}),
    };
  }
  if (Object.keys(health).length > 0) handler.health_checks = health;
  return handler;
}

/** The complete config as an object (JSON.stringify it to write or POST it). */
export function caddyConfig(input: CaddyConfigInput): Record<string, unknown> {
  const named = input.namedUpstreams === true;
  const handle: Array<Record<string, unknown>> = [];
  if (named) handle.push({ handler: 'vars', ...Object.fromEntries(input.backends.map((b) => [b.id, dialAddress(b.url)])) });
  handle.push(reverseProxyHandler(input.settings, input.backends, named));
  return {
    // No --resume, nothing saved: every start is this text only (caddy.go, ConfigSettings.Persist).
    admin: { listen: input.admin, config: { persist: false } },
    logging: {
      logs: {
        // One JSON line per event on stdout. DEBUG: the reverse proxy logs each attempt
        // ("upstream roundtrip") only at debug level; the access log is at info.
        default: { writer: { output: 'stdout' }, encoder: { format: 'json' }, level: 'DEBUG', include: [ACCESS_LOGGER, PROXY_LOGGER, 'events'] },
      },
    },
    apps: {
      http: {
        servers: {
          fulcrum: {
            listen: [input.listen],
            // An http:// site only: no certificates, no redirect listener on :80.
            automatic_https: { disable: true },
            routes: [{ handle }],
            // Access log lines for every request (logger http.log.access.log0).
            logs: {},
          },
        },
      },
    },
  };
}

/** The config as the text Caddy loads (2-space JSON, newline-terminated). */
export const caddyConfigText = (input: CaddyConfigInput): string => `${JSON.stringify(caddyConfig(input), null, 2)}\n`;
