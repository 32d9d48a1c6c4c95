// Request bodies: small ones are buffered whole so a retry can send them again; a body
// declared (or found) larger than the replay limit streams through once and is not
// replayable (Envoy and HAProxy make the same split). The overall size cap answers 413.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

export type RequestBody =
  | { kind: 'none' }
  | { kind: 'buffered'; bytes: Buffer }
  /** `head` was already read from the client while looking for the end; `rest` follows. */
  | { kind: 'streamed'; head: Buffer[]; headBytes: number; declaredBytes?: number }
  | { kind: 'too-large' };

export interface BodyLimits {
  maxReplayBodyBytes: number;
  maxBodyBytes: number;
}

const NONE: RequestBody = { kind: 'none' };

/** Synchronous for the common no-body and streamed cases; a promise only while buffering. */
export function readRequestBody(raw: IncomingMessage, limits: BodyLimits): RequestBody | Promise<RequestBody> {
  const te = raw.headers['transfer-encoding'];
  const cl = raw.headers['content-length'];
  if (te === undefined && (cl === undefined || cl === '0')) return NONE;
  const declared = te === undefined && cl !== undefined ? Number(cl) : undefined; // Node already rejected bad values
  if (declared !== undefined && declared > limits.maxBodyBytes) return { kind: 'too-large' };
  if (declared !== undefined && declared > limits.maxReplayBodyBytes) {
    return { kind: 'streamed', head: [], headBytes: 0, declaredBytes: declared };
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      raw.off('data', onData); raw.off('end', onEnd); raw.off('error', onError); raw.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > limits.maxReplayBodyBytes) { // chunked and longer than the replay buffer
        cleanup();
        raw.pause();
        resolve(total > limits.maxBodyBytes ? { kind: 'too-large' } : { kind: 'streamed', head: chunks, headBytes: total });
      }
    };
    const onEnd = () => { cleanup(); resolve({ kind: 'buffered', bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total) }); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onAborted = () => { cleanup(); reject(new Error('client aborted the request body')); };
    raw.on('data', onData); raw.on('end', onEnd); raw.on('error', onError); raw.on('aborted', onAborted);
  });
}

export class BodyTooLargeError extends Error {
  constructor() { super('request body over the limit'); }
}

/**
 * The body for one attempt. A streamed body can be sent once; `consumed` says whether the
 * client stream was touched, so a second attempt knows it cannot resend it.
 */
export class StreamedBody {
  consumed = false;
  constructor(
    readonly raw: IncomingMessage,
    readonly body: Extract<RequestBody, { kind: 'streamed' }>,
    readonly maxBodyBytes: number,
  ) {}

  stream(): Readable {
    return Readable.from(streamedChunks(this));
  }
}

async function* streamedChunks(b: StreamedBody): AsyncGenerator<Buffer> {
  b.consumed = true; // runs on the first read, so an attempt that never connected leaves it false
  let total = 0;
  for (const chunk of b.body.head) { total += chunk.length; yield chunk; }
  for await (const chunk of b.raw) {
    total += (chunk as Buffer).length;
    if (total > b.maxBodyBytes) throw new BodyTooLargeError();
    yield chunk as Buffer;
  }
}
