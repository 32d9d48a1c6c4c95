// HAProxy 2.6, NGINX 1.22 and Caddy 2.6 as reference rows in `npm run bench -- proxy`, each
// with the smallest configuration that does what the bench asks of every proxy: round robin
// over the replicas on keep-alive upstream connections, no access log, one worker thread or
// process (Fulcrum and the Node proxies run on one thread too). Each runs from a temp
// directory in a process group of its own, on a loopback port the OS gave out: HAProxy
// inherits the listening socket itself (bind fd@3); NGINX and Caddy bind the port number.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loopbackListener } from '../live/runner/proxies/haproxy/launcher.ts';

export interface RealProxy { name: string; url: string; pid: number; stop(): Promise<void> }

interface Target {
  name: string;
  binary: string;
  /** Takes the listening socket as fd 3 (else it binds the port itself). */
  inheritsSocket?: boolean;
  /** The config file's name and text for `port` and the replicas' `host:port` addresses. */
  config(dir: string, port: number, upstreams: string[]): { file: string; text: string };
  args(configFile: string, dir: string): string[];
  env?: (dir: string) => Record<string, string>;
}

const TARGETS: Target[] = [
  {
    name: 'HAProxy 2.6 (nbthread 1)',
    binary: 'haproxy',
    inheritsSocket: true,
    config: (_dir, _port, upstreams) => ({
      file: 'haproxy.cfg',
      text: [
        'global', '  nbthread 1', '  maxconn 4096',
        'defaults', '  mode http', '  timeout connect 5s', '  timeout client 30s', '  timeout server 30s', '  http-reuse always',
        'frontend bench', '  bind fd@3', '  default_backend replicas',
        'backend replicas', '  balance roundrobin',
        ...upstreams.map((u, i) => `  server s${i + 1} ${u}`), '',
      ].join('\n'),
    }),
    args: (file) => ['-db', '-f', file],
  },
  {
    name: 'NGINX 1.22 (1 worker)',
    binary: 'nginx',
    // master_process off: the worker is the process started, so its CPU time is read directly.
    config: (dir, port, upstreams) => ({
      file: 'nginx.conf',
      text: `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join('\n  ')}
  upstream replicas {
    ${upstreams.map((u) => `server ${u};`).join('\n    ')}
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
    }),
    args: (file, dir) => ['-p', dir, '-c', file, '-e', 'stderr'],
  },
  {
    name: 'Caddy 2.6 (GOMAXPROCS=1)',
    binary: 'caddy',
    config: (_dir, port, upstreams) => ({
      file: 'caddy.json',
      text: JSON.stringify({
        admin: { disabled: true },
        logging: { logs: { default: { level: 'ERROR' } } },
        apps: {
          http: {
            servers: {
              bench: {
                listen: [`127.0.0.1:${port}`],
                automatic_https: { disable: true },
                routes: [{
                  handle: [{
                    handler: 'reverse_proxy',
                    upstreams: upstreams.map((dial) => ({ dial })),
                    load_balancing: { selection_policy: { policy: 'round_robin' } },
                  }],
                }],
              },
            },
          },
        },
      }),
    }),
    args: (file) => ['run', '--config', file],
    // Caddy keeps state under $HOME / XDG folders: a temp dir, not the user's.
    env: (dir) => ({ GOMAXPROCS: '1', HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }),
  },
];

const installed = (binary: string) => spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;

/** Starts every installed reference proxy; the names of the missing ones come back too. */
export async function startRealProxies(dir: string, upstreams: string[]): Promise<{ started: RealProxy[]; missing: string[] }> {
  const started: RealProxy[] = [];
  const missing: string[] = [];
  try {
    for (const t of TARGETS) {
      if (!installed(t.binary)) { missing.push(t.name); continue; }
      started.push(await startOne(t, dir, upstreams));
    }
  } catch (e) {
    await Promise.all(started.map((p) => p.stop()));
    throw e;
  }
  return { started, missing };
}

async function startOne(t: Target, parent: string, upstreams: string[]): Promise<RealProxy> {
  const dir = join(parent, t.binary);
  mkdirSync(dir, { recursive: true });
  const listener = await loopbackListener();
  const { port } = listener;
  // A proxy that binds the port itself gets it free; another process could take it in between.
  if (!t.inheritsSocket) await new Promise<void>((resolve) => listener.server.close(() => resolve()));
  const { file, text } = t.config(dir, port, upstreams);
  writeFileSync(join(dir, file), text);
  const child = spawn(t.binary, t.args(join(dir, file), dir), {
    cwd: dir, detached: true, stdio: ['ignore', 'ignore', 'pipe', ...(t.inheritsSocket ? [listener.fd] : [])],
    env: { PATH: process.env.PATH, ...t.env?.(dir) },
  });
  if (t.inheritsSocket) listener.server.close(); // the child holds it now
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4_000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => { try { process.kill(-child.pid!, sig); } catch { /* group gone */ } };
  let stopping: Promise<void> | undefined;
  const proxy: RealProxy = {
    name: t.name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => (stopping ??= (async () => {
      signal('SIGTERM');
      const force = setTimeout(() => signal('SIGKILL'), 5_000);
      await exited;
      clearTimeout(force);
    })()),
  };
  // Ready = it answers through to a replica; bounded by a deadline, and by the process exiting.
  const deadline = Date.now() + 20_000;
  let gone = false;
  void exited.then(() => { gone = true; });
  for (;;) {
    try {
      const res = await fetch(`${proxy.url}/home`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return proxy;
    } catch { /* not listening yet */ }
    if (gone || Date.now() > deadline) {
      await proxy.stop();
      throw new Error(`${t.name} did not start (${gone ? 'exited' : 'no answer in 20 s'}): ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
