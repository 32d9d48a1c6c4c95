// HAProxy's runtime API on its stats socket (management.txt, section 9.3): one command per
// connection, HAProxy answers and closes. Membership changes of an experiment (`changes`)
// go through it, as an operator's would.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Change } from '../../../../experiments/schema.ts';
import type { HaproxyBalance } from '../../../../experiments/proxies/haproxy-settings.ts';
import { type HaproxyBackend, haproxyWeight, serverAddress } from './config.ts';

const BACKEND = 'servers';

/** Sends one command; resolves with HAProxy's whole answer. */
export function runtimeCommand(socketPath: string, command: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`runtime API: no answer to "${command}" within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (d: string) => { answer += d; });
    socket.on('error', (err) => { clearTimeout(timer); reject(err); });
    socket.on('close', () => { clearTimeout(timer); resolve(answer); });
  });
}

/**
 * HAProxy answers a successful action with nothing, or with a fixed confirmation; anything
 * else is its error text (e.g. "No such server."), thrown as is.
 */
export async function runtimeAction(socketPath: string, command: string, ok: RegExp = /^$/): Promise<void> {
  const answer = (await runtimeCommand(socketPath, command)).trim();
  if (!ok.test(answer)) throw new Error(`haproxy: ${command}: ${answer.replace(/\s*\n\s*/g, ' ')}`);
}

/** `show stat` (management.txt 9.1): one row per server of the backend, keyed by column name. */
export async function serverStats(socketPath: string): Promise<Array<Record<string, string>>> {
  const csv = await runtimeCommand(socketPath, 'show stat');
  const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
  const columns = header.split(',');
  return rows.map((row) => Object.fromEntries(row.split(',').map((v, i) => [columns[i], v])))
    .filter((r) => r.pxname === BACKEND && r.svname !== 'BACKEND');
}

/** A server's current sessions (`scur`). */
async function serverConnections(socketPath: string, server: string): Promise<number> {
  const row = (await serverStats(socketPath)).find((r) => r.svname === server);
  if (!row) throw new Error(`haproxy: show stat has no server ${BACKEND}/${server}`);
  return Number(row.scur);
}

export interface RuntimeApiOptions {
  socketPath: string;
  /** The per-server options of the config (check, observe, slowstart, maxconn): added servers get them too. */
  serverOptions: string[];
  /** How long a removed server may take to finish its requests before it is deleted anyway. */
  drainTimeoutMs?: number;
}

/** Hears membership as the runtime API changes it (the launcher's timeline). */
export interface MembershipListener {
  added(id: string): void;
  /** In maintenance: no new requests from now on. */
  removing(id: string): void;
  removed(id: string): void;
}

const NOBODY: MembershipListener = { added: () => {}, removing: () => {}, removed: () => {} };

/**
 * The `changes` HAProxy's runtime API refuses, one line each (haproxy-facts.md 15): static
 * algorithms (static-rr, map-based `balance source`) take no dynamic server ("Backend must use
 * a dynamic load balancing to support dynamic servers") and no weight but 0 or the server's
 * configured one ("only accepts weights '0%' and '100%'").
 */
export function changeProblems(balance: HaproxyBalance, changes: readonly Change[], configuredWeight: (id: string) => number): string[] {
  if (balance.algorithm !== 'static-rr' && !(balance.algorithm === 'source' && balance.hashType.method === 'map-based')) return [];
  const why = `HAProxy's static ${balance.algorithm === 'source' ? 'source with hash-type map-based' : balance.algorithm} cannot`;
  return changes.flatMap((c, i): string[] => {
    if (c.kind === 'add') return [`changes[${i}].add: "${c.server}": ${why} add a server at run time; use roundrobin, or hash-type consistent`];
    if (c.kind === 'weight' && c.weight !== 0 && c.weight !== configuredWeight(c.server)) {
      return [`changes[${i}].weight: ${c.weight} on ${c.server}: ${why} change a weight at run time except to 0 or back to its configured ${configuredWeight(c.server)}`];
    }
    return [];
  });
}

/** Applies one experiment `changes` entry; `url` is the new replica's, for `add`. */
export async function applyChange(o: RuntimeApiOptions, change: Change, url?: string, listener: MembershipListener = NOBODY): Promise<void> {
  const name = `${BACKEND}/${change.server}`;
  if (change.kind === 'weight') {
    const w = haproxyWeight(change.server, change.weight);
    if ('problem' in w) throw new Error(w.problem);
    await runtimeAction(o.socketPath, `set server ${name} weight ${w.weight}`);
    return;
  }
  if (change.kind === 'add') {
    if (!url) throw new Error(`add ${change.server}: the replica's url is missing`);
    await addServer(o, { id: change.server, url, weight: change.weight ?? 1 });
    listener.added(change.server);
    return;
  }
  await removeServer(o, change.server, listener);
}

async function addServer(o: RuntimeApiOptions, b: HaproxyBackend): Promise<void> {
  const w = haproxyWeight(b.id, b.weight);
  if ('problem' in w) throw new Error(w.problem);
  const name = `${BACKEND}/${b.id}`;
  // A dynamic server does not inherit `default-server` (management.txt, "add server"), so it
  // gets the same options spelled out; it starts in maintenance until enabled.
  await runtimeAction(o.socketPath, ['add server', name, serverAddress(b.url), 'weight', String(w.weight), ...o.serverOptions].join(' '), /^New server registered\.$/);
  if (o.serverOptions.includes('check')) await runtimeAction(o.socketPath, `enable health ${name}`);
  await runtimeAction(o.socketPath, `enable server ${name}`);
}

async function removeServer(o: RuntimeApiOptions, id: string, listener: MembershipListener): Promise<void> {
  const name = `${BACKEND}/${id}`;
  // Maintenance: no new requests; the ones in progress finish. `del server` refuses a
  // server that still has connections, so wait for them to end first.
  await runtimeAction(o.socketPath, `disable server ${name}`);
  listener.removing(id);
  const deadline = Date.now() + (o.drainTimeoutMs ?? 30_000);
  while ((await serverConnections(o.socketPath, id)) > 0) {
    if (Date.now() > deadline) throw new Error(`remove ${id}: still has connections after ${o.drainTimeoutMs ?? 30_000} ms`);
    await sleep(20);
  }
  if (o.serverOptions.includes('check')) await runtimeAction(o.socketPath, `disable health ${name}`);
  await runtimeAction(o.socketPath, `del server ${name}`, /^Server deleted\.$/);
  listener.removed(id);
}
