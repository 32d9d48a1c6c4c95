// The proxy's own listeners, so no backend can be one of them (issue 14, finding 2): a
// backend `http://127.0.0.1:<the proxy's port>` makes every request it gets come back as a
// new request, which is routed again, without end. Refused by address here (admin API,
// --backend, DNS discovery all pass through Membership.check); whatever still loops (a DNS
// name, a NAT, another proxy in between) is caught on the wire by the Via tag (via.ts).
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isLoopbackHost, normalizeAddress } from '../../http/security.ts';

const UNSPECIFIED = new Set(['0.0.0.0', '::']);

export class OwnListeners {
  private readonly listeners: Array<{ host: string; port: number }> = [];

  /** A listener the proxy has (or is about to have). Port 0 (any free port) is added once bound. */
  add(host: string, port: number): void {
    if (port > 0) this.listeners.push({ host: normalizeAddress(host.replace(/^\[|\]$/g, '')), port });
  }

  /** Why `origin` (an http origin) would reach this proxy itself, or undefined when it cannot by address. */
  selfReference(origin: string): string | undefined {
    const url = new URL(origin);
    const port = Number(url.port || 80);
    const host = normalizeAddress(url.hostname.replace(/^\[|\]$/g, ''));
    for (const l of this.listeners) {
      if (l.port !== port) continue;
      // Conservative on purpose: any loopback or unspecified spelling with the same port may be this
      // listener (127.0.0.2 reaches a 0.0.0.0 listener), and so may any address of this machine.
      if (host === l.host || isLoopbackHost(host) || UNSPECIFIED.has(host) || (isIP(host) !== 0 && localAddresses().has(host))) {
        return `${origin} is this proxy's own listener ${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
      }
    }
    return undefined;
  }
}

function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(normalizeAddress(a.address));
  return out;
}
