// Replicas as real Docker containers: `--network host` (loopback ports), Docker's own
// `--restart=always` policy, crash = SIGKILL of the container's main process from the host
// (so the restart policy applies, as in the original A-3), hang = SIGSTOP of it.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Replica, ReplicaSpec, Runtime } from './types.ts';
import { serverArgs } from './server-args.ts';
import { waitForHttp } from './wait.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEFAULT_BASE_IMAGE = 'node:24-slim';

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Fails loudly when no engine answers: the docker runtime never falls back to processes. */
export async function assertDockerEngine(): Promise<string> {
  try {
    return await docker('version', '--format', '{{.Server.Version}}');
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.trim() || (err as Error).message;
    throw new Error(
      `--runtime docker needs a running Docker engine, and none answered (${detail.split('\n')[0]}). ` +
      'Install it (apt-get install -y docker.io), start dockerd, or use --runtime process.',
    );
  }
}

/**
 * Builds the repository's multi-stage Dockerfile on top of `baseImage` (sources bundled
 * inside the build; Docker's layer cache makes a rebuild without changes take seconds).
 * `--network host`: the build stage's `npm ci` reaches the registry the way the host does.
 * Returns the image ID, not the tag: two checkouts building at once on one engine move the
 * tag, but each run keeps the image it built.
 */
export async function buildReplicaImage(baseImage: string, tag = 'fulcrum-server:dev'): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await run('docker', ['build', '--quiet', '--network', 'host', '--build-arg', `BASE=${baseImage}`, '-t', tag, ROOT], {
      maxBuffer: 16 * 1024 * 1024, env: { ...process.env, DOCKER_BUILDKIT: '0' },
    }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`docker build from base image ${baseImage} failed: ${stderr.trim().split('\n').slice(-3).join(' ')}` +
      (baseImage === DEFAULT_BASE_IMAGE ? ' (without registry access, build a local base: live/docker/local-base.sh, then --docker-base fulcrum-node24-base:local)' : ''));
  }
  const id = /sha256:[0-9a-f]{64}/.exec(stdout)?.[0];
  if (!id) throw new Error(`docker build from base image ${baseImage} printed no image ID: ${stdout.trim()}`);
  return id;
}

class ContainerReplica implements Replica {
  readonly url: string;
  constructor(private readonly spec: ReplicaSpec, readonly name: string, readonly port: number) {
    this.url = `http://${spec.host}:${port}`;
  }

  get id(): string { return this.spec.id; }
  private lastPid: number | undefined;
  private restartCount = 0;
  get restarts(): number { return this.restartCount; }

  pid(): number | undefined { return this.lastPid; }

  /** Re-reads the container's main PID and restart count from the engine. */
  async refresh(): Promise<void> {
    const out = await docker('inspect', '-f', '{{.State.Pid}} {{.RestartCount}}', this.name);
    const [pid, restarts] = out.split(' ').map(Number);
    this.lastPid = pid > 0 ? pid : undefined;
    this.restartCount = restarts;
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    await waitForHttp(`${this.url}/heartbeat`, timeoutMs);
    await this.refresh();
  }

  async crash(): Promise<void> {
    await this.refresh();
    if (!this.lastPid) return;
    try { process.kill(this.lastPid, 'SIGCONT'); process.kill(this.lastPid, 'SIGKILL'); } catch { /* already gone */ }
    this.lastPid = undefined;
  }

  pause(): void { if (this.lastPid) process.kill(this.lastPid, 'SIGSTOP'); }
  resume(): void { if (this.lastPid) process.kill(this.lastPid, 'SIGCONT'); }

  async stop(): Promise<void> {
    await docker('rm', '-f', this.name).catch(() => '');
  }
}

export class DockerRuntime implements Runtime {
  readonly name = 'docker' as const;
  /** Containers of this run carry this label, so cleanup finds every one of them. */
  readonly runId = `fulcrum-${randomBytes(4).toString('hex')}`;
  private readonly replicas: ContainerReplica[] = [];

  constructor(private readonly image: string) {}

  async start(spec: ReplicaSpec): Promise<Replica> {
    if (spec.socketPath) throw new Error(`${spec.id}: a replica on a Unix socket (${spec.socketPath}) needs --runtime process; the host cannot reach a container's socket file`);
    const name = `${this.runId}-${spec.id}`;
    // Docker's restart policy re-runs the same command, so the container needs a fixed port:
    // probe for a free one. (A process replica binds port 0 instead; see process.ts.)
    const port = spec.port ?? await freePort();
    const args = ['/app/server.mjs', ...serverArgs(spec, port)];
    if (spec.restartDelayMs) args.push('--restart-delay-ms', String(spec.restartDelayMs));
    const replica = new ContainerReplica(spec, name, port);
    this.replicas.push(replica);
    await docker('run', '-d', '--name', name, '--label', `fulcrum.run=${this.runId}`, '--network', 'host',
      '-e', `FULCRUM_HEALTHCHECK_URL=http://127.0.0.1:${port}/heartbeat`,
      '--restart', spec.restart ? 'always' : 'no', this.image, ...args);
    await replica.ready();
    return replica;
  }

  async closeAll(): Promise<void> {
    const ids = await docker('ps', '-aq', '--filter', `label=fulcrum.run=${this.runId}`).catch(() => '');
    if (ids) await docker('rm', '-f', ...ids.split('\n')).catch(() => '');
  }
}

/** A free loopback port: bind to 0, read it, release it (racy; only for containers, see start). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
