// A FIFO service station, the live twin of the simulator's server: at most `concurrency`
// requests in service, the rest wait in arrival order. A freed slot is handed straight to
// the oldest waiter, so a request arriving at that instant cannot jump the queue.

export class ServiceQueue {
  private inService = 0;
  private readonly waiting: Array<() => void> = [];

  /** `concurrency` 0 means unlimited (every request is served at once). */
  constructor(private readonly concurrency: number) {}

  get busy(): number { return this.inService; }
  get queued(): number { return this.waiting.length; }

  /** Resolves when a slot is held; call `release` exactly once afterwards. */
  acquire(): Promise<void> | undefined {
    if (this.concurrency === 0 || this.inService < this.concurrency) {
      this.inService++;
      return undefined; // no await needed: keeps the unloaded path free of promises
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes on; inService stays the same
    else this.inService--;
  }
}
