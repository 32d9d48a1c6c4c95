// What the admin API shows for a backend: the Balancer's view, the proxy's stats, and its
// recent ejection history.
import type { BackendStatus } from '../../../core/index.ts';
import type { BackendRecord } from '../backends.ts';
import type { EventLog } from '../event-log.ts';

export type BackendState = 'up' | 'draining' | 'down' | 'ejected' | 'unhealthy' | 'unknown';

/** One word for people; the fields below it say why. */
export function stateOf(s: BackendStatus): BackendState {
  if (s.lifecycle === 'draining') return 'draining';
  if (s.adminDown) return 'down';
  if (s.ejectedUntilMs > 0) return 'ejected';
  if (s.health === 'unhealthy') return 'unhealthy';
  if (s.health === 'unknown') return 'unknown';
  return 'up';
}

export function backendView(s: BackendStatus, record: BackendRecord | undefined, events: EventLog): object {
  return {
    id: s.id,
    url: record?.origin ?? null,
    state: stateOf(s),
    routable: s.routable,
    weight: s.weight,
    effectiveWeight: s.effectiveWeight,
    lifecycle: s.lifecycle,
    adminDown: s.adminDown,
    health: s.health,
    inFlight: s.inFlight,
    ejectedUntil: s.ejectedUntilMs > 0 ? new Date(s.ejectedUntilMs).toISOString() : null,
    timesEjected: s.timesEjected,
    addedAt: record?.addedAt ?? null,
    stats: record?.stats.view() ?? null,
    ejections: events.list({ backend: s.id }).filter((e) => e.kind === 'ejected' || e.kind === 'unejected').slice(-20),
  };
}
