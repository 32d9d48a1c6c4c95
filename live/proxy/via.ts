// Loop detection on the wire (RFC 9110 §7.6.3): every forwarded request carries
// `Via: 1.1 fulcrum-<random id>`; a request arriving with this proxy's own id has already
// been through it once, so a backend points back at the proxy (a DNS name or a NAT that
// own-listeners.ts cannot see). It is answered 508 `loop_detected` instead of being routed
// again, which would multiply it without end (issue 14: 129 requests in flight from one).
import { randomBytes } from 'node:crypto';

export class ViaTag {
  /** This proxy's pseudonym in Via: random per process, so two proxies in a chain differ. */
  readonly pseudonym = `fulcrum-${randomBytes(6).toString('hex')}`;
  readonly entry = `1.1 ${this.pseudonym}`;

  /** The request's Via already names this proxy. */
  seenIn(via: string | undefined): boolean {
    return via !== undefined && via.includes(this.pseudonym);
  }

}
