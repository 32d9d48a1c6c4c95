import { formatDistribution } from '../../../core/index.ts';
import type { ReplicaSpec } from './types.ts';

/** The replica's command-line flags (server/cli.ts), the same for both runtimes. */
export function serverArgs(spec: ReplicaSpec, port: number): string[] {
  return [
    '--id', spec.id,
    '--host', spec.host,
    '--port', String(port),
    ...(spec.socketPath ? ['--socket', spec.socketPath] : []),
    '--service-time', formatDistribution(spec.serviceTimeMs),
    '--concurrency', String(spec.concurrency),
    '--seed', spec.seed,
    '--control-token', spec.controlToken,
  ];
}
