// After a live run: the load generator's completions joined with the proxy's own access
// log by request id, and fed to the result writer in time order — attempt starts and ends,
// a snapshot at every bucket boundary, each request as the client saw it — so the result
// files mean what the simulator's mean while the proxy ran in a process of its own.
// Snapshots: in-flight per server is counted from the attempt intervals (exact: attempts
// started and not yet ended at the boundary); `healthy` is the proxy's own routability as
// its log last reported it before the boundary.
import { isOkStatus } from '../../core/types.ts';
import type { Recorder, RequestOutcome, ServerSnapshot } from '../../experiments/records.ts';
import { emptyOutcomes } from '../../experiments/summary.ts';
import type { Completed } from './loadgen.ts';
import type { AccessRecord, MembersRecord } from './proxies/types.ts';

export interface JoinInput {
  completions: readonly Completed[];
  access: readonly AccessRecord[];
  /** The proxy's backends over the run, times in run ms (may start before 0). */
  members: readonly MembersRecord[];
  /** Epoch ms of the run's time zero: access-log times minus this are run ms. */
  t0EpochMs: number;
  /** When the load ended (run ms); the last bucket closes here or at the last event. */
  endMs: number;
}

export interface JoinResult {
  /** The servers at the end, for ResultWriter.close. */
  final: ServerSnapshot[];
  endMs: number;
  /** Completed requests the proxy's log did not mention (their rows have no servers). */
  unlogged: number;
}

type Event =
  | { t: number; rank: 0; kind: 'members'; servers: MembersRecord['servers'] }
  | { t: number; rank: 1; kind: 'end'; server: string; ok: boolean }
  | { t: number; rank: 2; kind: 'start'; server: string }
  | { t: number; rank: 3; kind: 'done'; c: Completed; record: AccessRecord | undefined };

const GATEWAY_ERRORS = new Set(Object.keys(emptyOutcomes()).filter((o) => o !== 'ok' && o !== 'error'));

type Writer = Recorder & { readonly backpressured?: boolean; drain?(): Promise<void> };

export async function joinProxyLog(writer: Writer, input: JoinInput): Promise<JoinResult> {
  const events: Event[] = [];
  for (const m of input.members) events.push({ t: m.atMs, rank: 0, kind: 'members', servers: m.servers });
  const byId = new Map<string, AccessRecord>();
  for (const r of input.access) {
    byId.set(r.requestId, r);
    for (const a of r.attempts ?? []) {
      events.push({ t: a.startMs - input.t0EpochMs, rank: 2, kind: 'start', server: a.server });
      events.push({ t: a.endMs - input.t0EpochMs, rank: 1, kind: 'end', server: a.server, ok: a.ok });
    }
  }
  let unlogged = 0;
  for (const c of input.completions) {
    const record = byId.get(String(c.id));
    if (!record) unlogged++;
    else if (!record.attempts) events.push(...untimedAttempts(c, record));
    events.push({ t: c.endMs, rank: 3, kind: 'done', c, record });
  }
  events.sort((a, b) => a.t - b.t || a.rank - b.rank);

  const inFlight = new Map<string, number>();
  let servers: MembersRecord['servers'] = [];
  const snapshot = (): ServerSnapshot[] => {
    const listed = servers.map((s) => ({ id: s.id, inFlight: inFlight.get(s.id) ?? 0, healthy: s.routable }));
    for (const [id, n] of inFlight) if (n > 0 && !servers.some((s) => s.id === id)) listed.push({ id, inFlight: n, healthy: false });
    return listed;
  };
  let bucket = 1;
  const bucketsUpTo = (t: number) => {
    while (bucket * writer.bucketMs <= t) writer.bucketEnd(bucket++ * writer.bucketMs, snapshot());
  };
  for (const e of events) {
    bucketsUpTo(e.t);
    const t = Math.max(0, e.t);
    switch (e.kind) {
      case 'members': servers = e.servers; break;
      case 'start':
        inFlight.set(e.server, (inFlight.get(e.server) ?? 0) + 1);
        writer.attemptStarted(e.server, t);
        break;
      case 'end':
        inFlight.set(e.server, (inFlight.get(e.server) ?? 0) - 1);
        writer.attemptEnded(e.server, t, e.ok);
        break;
      case 'done': {
        const { c, record } = e;
        writer.requestDone({
          id: c.id, client: c.client, startMs: c.startMs, endMs: c.endMs, status: c.status,
          outcome: outcomeOf(c.status, record?.error), servers: record?.servers ?? [],
        });
        if (writer.backpressured) await writer.drain?.();
        break;
      }
    }
  }
  const endMs = Math.max(input.endMs, events.at(-1)?.t ?? 0);
  bucketsUpTo(endMs);
  return { final: snapshot(), endMs, unlogged };
}

/** What the client saw, in the simulator's outcome vocabulary. */
export function outcomeOf(status: number, proxyError: string | undefined): RequestOutcome {
  if (status === 0) return 'upstream_reset'; // no complete answer: the connection was cut
  if (proxyError !== undefined && GATEWAY_ERRORS.has(proxyError)) return proxyError as RequestOutcome;
  return isOkStatus(status) ? 'ok' : 'error';
}

/**
 * A proxy whose log names the servers tried but not when: the attempts are placed at the
 * client's send and answer times, and only the last can have been ok (a retry follows a failure).
 */
function untimedAttempts(c: Completed, r: AccessRecord): Event[] {
  return r.servers.flatMap((server, i): Event[] => [
    { t: c.startMs, rank: 2, kind: 'start', server },
    { t: c.endMs, rank: 1, kind: 'end', server, ok: i === r.servers.length - 1 && isOkStatus(r.status) && r.status !== 0 },
  ]);
}
