// The pure half of DNS discovery: from the addresses each target last resolved to, which
// backends should exist, and what to add and drain to get there. No sockets, no timers.
import { isIP } from 'node:net';

export interface DiscoveryTarget { host: string; port: number }

/** What one target last resolved to (its last good answer; undefined before the first). */
export interface TargetAnswer { target: DiscoveryTarget; addresses: readonly string[] | undefined }

export interface WantedBackend { id: string; url: string; target: string }

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/** `HOST:PORT` or `[IPv6]:PORT`; the message names what is allowed. */
export function parseHostPort(text: string, ipOnly = false): { ok: true; host: string; port: number } | { ok: false; message: string } {
  const allowed = ipOnly
    ? 'IP:PORT (an IPv4 address or [IPv6], port 1-65535), e.g. 10.96.0.10:53'
    : 'HOST:PORT (a DNS name or an address, port 1-65535), e.g. replicas.default.svc.cluster.local:9001';
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  const hostOk = m?.[1] !== undefined ? isIP(m[1]) === 6 : host !== undefined && (ipOnly ? isIP(host) === 4 : HOSTNAME.test(host) || isIP(host) === 4);
  if (!m || !hostOk || !(port >= 1 && port <= 65_535)) return { ok: false, message: `got "${text}"; allowed: ${allowed}` };
  return { ok: true, host: host!, port };
}

export function targetName(t: DiscoveryTarget): string {
  return `${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${t.port}`;
}

/**
 * `10.0.0.5` + 9001 → `10.0.0.5_9001`; `fd00::5` → `fd00--5_9001` (the id regex allows no
 * colons). Deterministic, so every proxy replica and every restart names a backend alike.
 */
export function backendIdFor(address: string, port: number): string {
  return `${address.replace(/:/g, '-')}_${port}`;
}

export function backendUrlFor(address: string, port: number): string {
  return `http://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}

/**
 * The union of every target's answer, sorted by id. Two targets that name the same
 * address and port name one backend (the first target in flag order owns it).
 * Link-local addresses with a zone (`fe80::1%eth0`) cannot be written in a URL: skipped.
 */
export function wantedBackends(answers: readonly TargetAnswer[]): Map<string, WantedBackend> {
  const wanted: WantedBackend[] = [];
  const seen = new Set<string>();
  for (const { target, addresses } of answers) {
    for (const address of addresses ?? []) {
      if (isIP(address) === 0 || address.includes('%')) continue;
      const id = backendIdFor(address, target.port);
      if (seen.has(id)) continue;
      seen.add(id);
      wanted.push({ id, url: backendUrlFor(address, target.port), target: targetName(target) });
    }
  }
  wanted.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return new Map(wanted.map((w) => [w.id, w]));
}

export interface DiscoveryPlan { add: string[]; remove: string[] }

/**
 * `active`: discovered backends taking part now; `draining`: discovered backends still
 * finishing their requests. A wanted id that is draining cannot be added yet (its id is
 * taken until the drain ends): it is left out here and added on the round after its
 * removal, so an address that vanished and came back is never lost.
 */
export function planDiscovery(
  wanted: ReadonlyMap<string, unknown>, active: ReadonlySet<string>, draining: ReadonlySet<string>,
): DiscoveryPlan {
  const add = [...wanted.keys()].filter((id) => !active.has(id) && !draining.has(id)).sort();
  const remove = [...active].filter((id) => !wanted.has(id)).sort();
  return { add, remove };
}
