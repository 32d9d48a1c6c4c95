// Scheduled faults, applied to server models. Windowed faults (hang, slow, errors, reset)
// end after durationMs, but only if no later fault of the same kind replaced them.
import type { Fault } from '../../experiments/schema.ts';
import type { Scheduler } from './events.ts';
import type { ServerModel } from './server.ts';

type WindowKind = 'hang' | 'slow' | 'errors' | 'reset';

export class FaultInjector {
  /** The fault currently in force per server and kind. */
  private readonly windows = new Map<ServerModel, Partial<Record<WindowKind, Fault>>>();

  constructor(private readonly scheduler: Scheduler, private readonly servers: ReadonlyMap<string, ServerModel>) {}

  /** Puts every fault on the schedule; faults on servers absent at that time do nothing. */
  schedule(faults: readonly Fault[]): void {
    for (const fault of faults) this.scheduler.schedule(fault.atMs - this.scheduler.nowMs, { kind: 'fault', fault });
  }

  start(fault: Fault, nowMs: number): void {
    const server = this.servers.get(fault.server);
    if (!server) return;
    switch (fault.kind) {
      case 'crash':
        server.crash();
        if (fault.restartAfterMs !== undefined) {
          const listensAfterMs = fault.restartAfterMs + (fault.startupMs ?? 0);
          this.scheduler.schedule(listensAfterMs, { kind: 'restart', serverId: server.id, epoch: server.epoch });
        }
        return;
      case 'hang': server.hang(nowMs); break;
      case 'slow': server.slowFactor = fault.factor; break;
      case 'errors': server.errorProbability = fault.probability; server.errorStatus = fault.status; break;
      case 'reset': server.resetProbability = fault.probability; break;
    }
    this.windowsOf(server)[fault.kind] = fault;
    if (fault.durationMs !== undefined) this.scheduler.schedule(fault.durationMs, { kind: 'fault-end', fault });
  }

  end(fault: Fault): void {
    const server = this.servers.get(fault.server);
    if (!server || fault.kind === 'crash') return;
    const windows = this.windowsOf(server);
    if (windows[fault.kind] !== fault) return; // superseded by a later fault of this kind
    delete windows[fault.kind];
    switch (fault.kind) {
      case 'hang': server.resume(); break;
      case 'slow': server.slowFactor = 1; break;
      case 'errors': server.errorProbability = 0; break;
      case 'reset': server.resetProbability = 0; break;
    }
  }

  /** A crash's restart, unless the server crashed or restarted again since. */
  restart(serverId: string, epoch: number): void {
    const server = this.servers.get(serverId);
    if (!server || server.epoch !== epoch) return;
    server.restart();
    const windows = this.windowsOf(server);
    delete windows.hang; // a new process is not stopped
  }

  private windowsOf(server: ServerModel): Partial<Record<WindowKind, Fault>> {
    let w = this.windows.get(server);
    if (!w) { w = {}; this.windows.set(server, w); }
    return w;
  }
}
