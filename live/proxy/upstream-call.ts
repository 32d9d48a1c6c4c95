// One attempt's request to a backend, as a handler of undici's dispatcher: the interface
// undici's own request API is built on, minus the Readable it wraps every answer's body in
// and the AsyncResource and abort-signal plumbing around it (an eighth to a fifth of a bare
// proxy's CPU per request, measured in `npm run bench` and in docs/performance.md). The answer's head goes to the
// owner, which then relays the body straight to the client (`relayTo`), reads it away so
// the connection stays reusable (`discard`, an answer retried elsewhere), or aborts.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';

export interface CallOwner {
  /** The final answer's head, or the error that came instead. */
  upstreamAnswered(call: UpstreamCall, err: Error | null, statusCode: number, headers: IncomingHttpHeaders): void;
  /** The relayed body ended complete, or the backend failed mid-body. */
  relayEnded(complete: boolean): void;
}

/** What undici's `dump()` reads of an unwanted body before it gives the connection up. */
const DISCARD_LIMIT_BYTES = 128 * 1024;
const NO_HEADERS: IncomingHttpHeaders = {};

class AttemptAborted extends Error {}
const ABORTED = new AttemptAborted('attempt aborted by the proxy');

type Mode = 'waiting' | 'relaying' | 'discarding' | 'ended';
type Controller = Dispatcher.DispatchController;

export class UpstreamCall implements Dispatcher.DispatchHandler {
  private mode: Mode = 'waiting';
  private controller: Controller | undefined;
  private out: ServerResponse | undefined;
  private discarded = 0;

  constructor(private readonly owner: CallOwner) {}

  /** Pass the body on to `out` (its head is already written) and end it with the body. */
  relayTo(out: ServerResponse): void { this.mode = 'relaying'; this.out = out; }

  /** Read the body away unseen; past DISCARD_LIMIT_BYTES the connection is given up. */
  discard(): void { this.mode = 'discarding'; }

  /** Nothing more is wanted from this call: undici frees or destroys its socket; no event reaches the owner. */
  abort(): void {
    if (this.mode === 'ended') return;
    this.mode = 'ended';
    this.controller?.abort(ABORTED); // not started yet: onRequestStart aborts
  }

  // ---- undici's handler interface --------------------------------------------------------

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.mode === 'ended') controller.abort(ABORTED);
  }

  onResponseStart(_controller: Controller, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200 || this.mode !== 'waiting') return; // an interim answer: the final one follows
    this.owner.upstreamAnswered(this, null, statusCode, headers);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.mode === 'relaying') {
      if (this.out!.write(chunk)) return;
      controller.pause(); // the client reads slower than the backend writes
      this.out!.once('drain', () => controller.resume());
      return;
    }
    if (this.mode === 'discarding' && (this.discarded += chunk.length) > DISCARD_LIMIT_BYTES) this.abort();
  }

  onResponseEnd(): void {
    const relaying = this.mode === 'relaying';
    this.mode = 'ended';
    if (!relaying) return;
    this.owner.relayEnded(true); // first: the attempt ended when the backend's body did, before the client can have it all
    this.out!.end();
  }

  onResponseError(_controller: Controller, err: Error): void {
    const mode = this.mode;
    this.mode = 'ended';
    if (mode === 'waiting') this.owner.upstreamAnswered(this, err, 0, NO_HEADERS);
    else if (mode === 'relaying') this.owner.relayEnded(false);
  }
}
