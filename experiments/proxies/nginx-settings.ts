// What an experiment means on NGINX 1.22 (open source), in NGINX's own vocabulary (the
// ngx_http_upstream_module and ngx_http_proxy_module documentation). The translation
// (experiment → these settings) lives in nginx.ts; the config generator (live/) and the
// model (core/, sim/) both read only this, so the proxy that runs and the model that
// predicts it cannot disagree.

export type NginxBalance =
  /** No balancing directive: smooth weighted round robin (ngx_http_upstream_round_robin.c). */
  | { method: 'round-robin' }
  | { method: 'least_conn' }
  /** `ip_hash`: for IPv4 only the first three octets are hashed. */
  | { method: 'ip_hash' }
  /** `hash $remote_addr [consistent]`. */
  | { method: 'hash'; consistent: boolean }
  /** `random [two [least_conn]]`. */
  | { method: 'random'; two: boolean };

export interface NginxSettings {
  balance: NginxBalance;
  /** `proxy_next_upstream` conditions as written (error, timeout, http_502 …, non_idempotent); [] is `off`. */
  nextUpstream: string[];
  /** `proxy_next_upstream_tries` (0: no limit but the servers). */
  nextUpstreamTries: number;
  /** `proxy_next_upstream_timeout` in ms (0: no limit). */
  nextUpstreamTimeoutMs: number;
  /** Per-server `max_fails` (0: passive health off) and `fail_timeout`. */
  maxFails: number;
  failTimeoutMs: number;
  /** `proxy_connect_timeout`, `proxy_read_timeout`, `proxy_send_timeout`. */
  timeouts: { connectMs: number; readMs: number; sendMs: number };
  /** `worker_processes`: each worker has a balancer of its own unless `zone` shares one. */
  workerProcesses: number;
  /** `zone` in the upstream block: the workers share one balancer state in shared memory. */
  zone: boolean;
}

/**
 * How each server is written in the upstream block (`server <name>`). `hash … consistent`
 * places its points by crc32 of exactly this text, so it must not depend on a port chosen
 * at run time: a unix socket named after the server, relative to NGINX's working directory
 * (its work dir). The model hashes what this returns.
 */
export const NGINX_SERVER_NAME = 'unix:{id}.sock';

export function nginxServerName(id: string): string {
  return NGINX_SERVER_NAME.replaceAll('{id}', id);
}
