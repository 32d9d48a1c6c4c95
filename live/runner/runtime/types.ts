// A replica runtime starts backend replicas (server/) and applies real faults to them:
// SIGKILL for a crash (the restart policy brings it back), SIGSTOP/SIGCONT for a hang.
import type { Distribution } from '../../../core/distributions.ts';

export interface ReplicaSpec {
  id: string;
  host: string;
  /**
   * Omitted: the runtime finds a port without the bind-release-reuse race (the process
   * runtime lets the replica bind port 0 and reads the port it reports, then restarts it
   * on that port).
   */
  port?: number;
  /** Also serve on this Unix socket (process runtime only; see server/replica.ts). */
  socketPath?: string;
  serviceTimeMs: Distribution;
  concurrency: number;
  seed: string;
  controlToken: string;
  /** After a crash, the replica listens again only this long after it was restarted (the experiment's restartAfterMs). */
  restartDelayMs?: number;
  /** Restart after a crash, like Docker's `restart: always`. */
  restart: boolean;
}

export interface Replica {
  readonly id: string;
  readonly url: string;
  /** PID of the replica's main process on this host (for a container: its init process). */
  pid(): number | undefined;
  /** Real crash: SIGKILL of the main process; the restart policy applies. */
  crash(): Promise<void>;
  /** Real hang: SIGSTOP (the kernel still accepts connections into the backlog). */
  pause(): void;
  resume(): void;
  /** Resolves when the replica answers /heartbeat again (after a restart). */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops it for good; no restart. */
  stop(): Promise<void>;
  /** How many times the restart policy brought it back. */
  readonly restarts: number;
}

export interface Runtime {
  readonly name: 'process' | 'docker';
  start(spec: ReplicaSpec): Promise<Replica>;
  /** Stops every replica this runtime started, whatever state it is in. Idempotent. */
  closeAll(): Promise<void>;
}
