// A real DNS server for the discovery tests: UDP on 127.0.0.1, A and AAAA answers from a
// table the test changes, NXDOMAIN for names it does not hold, and two ways to fail
// (SERVFAIL, or no answer at all). Packets are encoded by dns-packet, not by hand.
import { type Socket, createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export type StubMode = 'answer' | 'servfail' | 'silent';

export interface DnsStub {
  /** `127.0.0.1:PORT`, for `dnsServer` / `--dns-server`. */
  readonly server: string;
  /** Sets a name's addresses (IPv4 and IPv6 mixed); `[]` makes it exist with no records. */
  set(name: string, addresses: string[]): void;
  delete(name: string): void;
  mode: StubMode;
  /** Queries received, per name and type, e.g. `app.test/A`. */
  readonly queries: Map<string, number>;
  close(): Promise<void>;
}

export async function startDnsStub(): Promise<DnsStub> {
  const table = new Map<string, string[]>();
  const queries = new Map<string, number>();
  const socket: Socket = createSocket('udp4');
  const stub = {
    server: '',
    mode: 'answer' as StubMode,
    queries,
    set(name: string, addresses: string[]) { table.set(name.toLowerCase(), [...addresses]); },
    delete(name: string) { table.delete(name.toLowerCase()); },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };

  socket.on('message', (msg, peer) => {
    let query: dnsPacket.Packet;
    try { query = dnsPacket.decode(msg); } catch { return; }
    const question = query.questions?.[0];
    if (!question) return;
    const key = `${question.name.toLowerCase()}/${question.type}`;
    queries.set(key, (queries.get(key) ?? 0) + 1);
    if (stub.mode === 'silent') return;
    const addresses = table.get(question.name.toLowerCase());
    const family = question.type === 'A' ? 4 : question.type === 'AAAA' ? 6 : 0;
    const rcode = stub.mode === 'servfail' ? RCODE.SERVFAIL : addresses === undefined ? RCODE.NXDOMAIN : RCODE.NOERROR;
    const answers = rcode === RCODE.NOERROR && family !== 0
      ? addresses!.filter((a) => isIP(a) === family).map((data) => ({ type: question.type as 'A', name: question.name, ttl: 1, class: 'IN' as const, data }))
      : [];
    const reply = dnsPacket.encode({
      // The response code travels in the header flags' low 4 bits.
      id: query.id, type: 'response', flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: [question], answers,
    });
    socket.send(reply, peer.port, peer.address);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => { socket.off('error', reject); resolve(); });
  });
  stub.server = `127.0.0.1:${socket.address().port}`;
  return stub;
}
