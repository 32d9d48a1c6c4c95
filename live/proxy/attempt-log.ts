// The attempt log (`--attempt-log FILE`): what the live runner measures Fulcrum's proxy by
// when it runs in a process of its own (live/runner/proxies/fulcrum.ts reads it back).
// One JSON line per finished client request — its x-request-id, the status the client got,
// the proxy's own error code, and each attempt's server, start, end (epoch ms) and ok —
// and one line whenever the backends or their routability change. Lines are queued in
// memory and written in batches by a timer, never on a request's path; the queue is
// bounded, and what would overflow it is counted and reported in a last line, not kept.
import { type FileHandle, open } from 'node:fs/promises';
import type { BackendStatus } from '../../core/index.ts';

/** One attempt; `ok`: the backend answered below 500 (the result files' definition). */
export interface LoggedAttempt { server: string; startMs: number; endMs: number; ok: boolean }

export type AttemptLogLine =
  /** A client request ended; `status` 0: the client got no complete answer. */
  | { kind: 'request'; id: string; status: number; error?: string; attempts: LoggedAttempt[] }
  /** The backends as of `atMs`, in the balancer's order; routable = healthy, not ejected, not draining. */
  | { kind: 'members'; atMs: number; servers: Array<{ id: string; routable: boolean }> }
  /** Lines the bounded queue could not keep (written last, only when some were lost). */
  | { kind: 'dropped'; lines: number };

/** Writes at least this often, so a killed proxy loses little. */
const FLUSH_INTERVAL_MS = 200;
/** A batch this large is written at once rather than waiting for the timer. */
const FLUSH_BYTES = 256 * 1024;
/** Queued plus being-written bytes never exceed this; more lines are dropped and counted. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export class AttemptLog {
  private queue: string[] = [];
  private queuedBytes = 0;
  private writingBytes = 0;
  private writing: Promise<void> | undefined;
  private dropped = 0;
  private lastMembers = '';
  private readonly timer: NodeJS.Timeout;
  private closed: Promise<void> | undefined;

  private constructor(private readonly file: FileHandle, private readonly maxQueuedBytes: number) {
    this.timer = setInterval(() => { void this.flush(); }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** `maxQueuedBytes`: the queue's bound (tests make it small). */
  static async open(path: string, maxQueuedBytes = MAX_QUEUED_BYTES): Promise<AttemptLog> {
    return new AttemptLog(await open(path, 'w'), maxQueuedBytes);
  }

  /** A client request ended. Times are performance.now() values, written as epoch ms. */
  request(id: string, status: number, error: string | undefined, attempts: ReadonlyArray<{ server: string; startedMs: number; endedMs: number; ok: boolean }>): void {
    if (this.closed) return;
    // Written out by hand: one string per request, no intermediate objects (the proxy bench's attempt-log row).
    let text = `{"kind":"request","id":${JSON.stringify(id)},"status":${status}${error === undefined ? '' : `,"error":${JSON.stringify(error)}`},"attempts":[`;
    for (let i = 0; i < attempts.length; i++) {
      const a = attempts[i];
      text += `${i ? ',' : ''}{"server":${JSON.stringify(a.server)},"startMs":${epochMs(a.startedMs)},"endMs":${epochMs(a.endedMs)},"ok":${a.ok}}`;
    }
    this.add(`${text}]}\n`);
  }

  /** The balancer's view after a change; written only when membership or routability differs from the last line. */
  members(atMs: number, status: readonly BackendStatus[]): void {
    const servers = status.map((s) => ({ id: s.id, routable: s.routable }));
    const key = JSON.stringify(servers);
    if (key === this.lastMembers) return;
    this.lastMembers = key;
    this.push({ kind: 'members', atMs: round3(atMs), servers });
  }

  /** Writes everything queued and closes the file (idempotent). */
  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      if (this.dropped > 0) this.enqueue(JSON.stringify({ kind: 'dropped', lines: this.dropped } satisfies AttemptLogLine) + '\n');
      while (this.writing || this.queue.length > 0) await (this.writing ?? this.flush());
      await this.file.close();
    })();
    return this.closed;
  }

  private push(line: AttemptLogLine): void {
    if (this.closed) return;
    this.add(JSON.stringify(line) + '\n');
  }

  private add(text: string): void {
    if (this.queuedBytes + this.writingBytes + text.length > this.maxQueuedBytes) { this.dropped++; return; }
    this.enqueue(text);
    if (this.queuedBytes >= FLUSH_BYTES) void this.flush();
  }

  private enqueue(text: string): void {
    this.queue.push(text);
    this.queuedBytes += text.length;
  }

  /** One write at a time, of everything queued when it starts. */
  private flush(): Promise<void> {
    if (this.writing || this.queue.length === 0) return this.writing ?? Promise.resolve();
    const batch = this.queue.join('');
    this.writingBytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = this.file.write(batch).then(() => undefined, (err: Error) => {
      process.stderr.write(`proxy: attempt log write failed: ${err.message}\n`);
    }).finally(() => {
      this.writing = undefined;
      this.writingBytes = 0;
      if (this.queuedBytes >= FLUSH_BYTES) void this.flush();
    });
    return this.writing;
  }
}

/** performance.now() → epoch ms, to the microsecond: the clock nowMs() (clock.ts) reads. */
function epochMs(perfMs: number): number {
  return round3(performance.timeOrigin + perfMs);
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
