// Writing small trace files for the trace tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'fulcrum-trace-'));
}

/** Writes `lines` (joined with \n, plus a final \n) to a new file; returns its path. */
export function traceFile(name: string, lines: string[], dir = tempDir()): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export const NGINX_OK = '10.0.0.1 - - [05/Dec/2026:21:33:54 +0000] "GET /api/x?a=1 HTTP/1.1" 200 612 "-" "curl/8.0" 0.013 0.010 10.0.0.5:80';
export const HAPROXY_OK = '10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"';
