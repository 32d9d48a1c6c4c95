// The image's HEALTHCHECK: exit 0 when FULCRUM_HEALTHCHECK_URL answers 2xx within 2 s.
// Plain node (node:24-slim has no curl or wget), no dependencies.
const url = process.env.FULCRUM_HEALTHCHECK_URL || 'http://127.0.0.1:9001/heartbeat';
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  process.exit(0);
} catch (err) {
  console.error(`healthcheck ${url}: ${err.message}`);
  process.exit(1);
}
