// Who the client is, for hashing policies and X-Forwarded-For. The socket address is the
// truth; a forwarding header counts only when the peer is a configured trusted proxy, and
// then only its rightmost untrusted entry (what HAProxy and NGINX realip do).
import { BlockList, isIP } from 'node:net';
import { normalizeAddress } from '../../http/security.ts';

export class ClientIdentity {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  /** Entries are addresses (`127.0.0.5`, `::1`) or CIDR blocks (`10.0.0.0/8`). */
  constructor(trustedProxies: readonly string[] = []) {
    for (const entry of trustedProxies) {
      const [addr, bits] = entry.split('/');
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(addr) === 0 || (bits !== undefined && !/^\d+$/.test(bits))) throw new Error(`trusted proxy: not an address or CIDR: ${entry}`);
      if (bits === undefined) this.trusted.addAddress(addr, family);
      else this.trusted.addSubnet(addr, Number(bits), family);
    }
    this.any = trustedProxies.length > 0;
  }

  isTrusted(address: string): boolean {
    if (!this.any) return false;
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The client address used as the hash key. */
  clientAddress(peer: string, forwardedFor: string | string[] | undefined): string {
    if (forwardedFor === undefined || !this.isTrusted(peer)) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i].trim());
      if (isIP(hop) === 0) break; // garbage: stop trusting the chain here
      if (!this.isTrusted(hop)) return hop;
    }
    return peer;
  }
}
