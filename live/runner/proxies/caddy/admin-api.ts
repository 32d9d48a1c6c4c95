// Caddy's admin API on a unix socket in the run's work folder (never :2019, which another
// Caddy on the machine may hold). Membership changes are config loads (POST /load, admin.go
// handleLoad): Caddy provisions the new config, swaps it in and cleans the old one up.
import { request } from 'node:http';

export interface AdminAnswer { status: number; body: string }

/** One admin request over the socket; rejects when Caddy does not answer within `timeoutMs`. */
export function adminRequest(socketPath: string, method: 'GET' | 'POST', path: string, body?: string, timeoutMs = 10_000): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath, method, path,
      // An empty Host: over a unix socket the admin endpoint allows only the empty host (admin.go,
      // allowedOrigins), and Go's server refuses a request without the header.
      setHost: false,
      headers: { host: '', ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
      timeout: timeoutMs,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`caddy admin: no answer to ${method} ${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Loads a whole new config; Caddy's error text is thrown. */
export async function loadConfig(socketPath: string, configText: string): Promise<void> {
  const answer = await adminRequest(socketPath, 'POST', '/load', configText);
  if (answer.status !== 200) throw new Error(`caddy admin POST /load: ${answer.status} ${answer.body.trim()}`);
}
