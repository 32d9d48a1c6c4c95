// A listener that cannot bind is a usage problem, not a crash: one line naming the port and
// the flag that chose it, exit 2 (the proxy's and the replica's CLIs).

interface ListenError { code?: string; port?: number; address?: string }

/**
 * The one-line message for EADDRINUSE / EACCES from listen(), or null for any other error.
 * `flags` maps each listening flag to the port it asked for; the error's port picks the flag.
 */
export function listenErrorLine(err: unknown, flags: Record<string, number>): string | null {
  const e = (err ?? {}) as ListenError;
  if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') return null;
  const flag = Object.entries(flags).find(([, port]) => port === e.port)?.[0] ?? Object.keys(flags)[0];
  const why = e.code === 'EADDRINUSE' ? 'is already in use' : 'needs privileges this process does not have';
  return `${flag}: port ${e.port ?? '?'}${e.address ? ` on ${e.address}` : ''} ${why}; choose another with ${flag} (0 picks a free port)`;
}
