// The Kubernetes manifests, offline: every document valid against the Kubernetes schemas,
// every reference between them resolvable, the routing ConfigMap accepted by the proxy's
// own parser, and both programs' args accepted by their own CLIs.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type Doc, flagValue, proxyRouting, readManifests, referenceProblems, schemaProblems } from './k8s-manifests.ts';

const run = promisify(execFile);
const main = readManifests('live/deploy/k8s/fulcrum.yaml');
const monitor = readManifests('live/deploy/k8s/servicemonitor.yaml');
const all = [...main, ...monitor];
const byName = (kind: string, name: string) => all.find((d) => d.kind === kind && d.metadata.name === name)!;
const containerOf = (name: string) => byName('Deployment', name).spec.template.spec.containers[0];
const clone = (docs: Doc[]) => structuredClone(docs);

describe('Kubernetes manifests (live/deploy/k8s)', () => {
  it('hold the objects the deployment needs, each valid against its Kubernetes schema', () => {
    expect(all.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      'ConfigMap/fulcrum-routing', 'Deployment/fulcrum-proxy', 'Deployment/fulcrum-server',
      'PodDisruptionBudget/fulcrum-proxy', 'PodDisruptionBudget/fulcrum-server',
      'Service/fulcrum', 'Service/fulcrum-proxy-metrics', 'Service/fulcrum-server', 'ServiceMonitor/fulcrum-proxy',
    ]);
    expect(schemaProblems(all)).toEqual([]);
  });

  it('the schema check rejects a wrong type, a missing required field and an unknown kind', () => {
    const docs = clone(all);
    byNameIn(docs, 'Deployment', 'fulcrum-server').spec.replicas = 'three';
    delete byNameIn(docs, 'Deployment', 'fulcrum-proxy').spec.template.spec.containers[0].name;
    byNameIn(docs, 'ServiceMonitor', 'fulcrum-proxy').spec.endpoints[0].authorization.type = 42;
    docs.push({ apiVersion: 'v1', kind: 'Pdo', metadata: { name: 'x' } });
    const problems = schemaProblems(docs);
    expect(problems).toEqual([
      'Deployment/fulcrum-server: data/spec/replicas must be integer',
      'Deployment/fulcrum-proxy: data/spec/template/spec/containers/0 must have required property name',
      'ServiceMonitor/fulcrum-proxy: data/spec/endpoints/0/authorization/type must be string',
      'Pdo/x: no schema for v1 Pdo',
    ]);
  });

  it('selectors, named ports, probes, volumes, PDBs and the ServiceMonitor all resolve', () => {
    expect(referenceProblems(all)).toEqual([]);
  });

  it('the reference check catches a broken selector, probe, targetPort and monitor port', () => {
    const docs = clone(all);
    byNameIn(docs, 'Service', 'fulcrum-server').spec.selector = { 'app.kubernetes.io/name': 'fulcrum-srv' };
    byNameIn(docs, 'Deployment', 'fulcrum-proxy').spec.template.spec.containers[0].readinessProbe.httpGet.port = 'admin';
    byNameIn(docs, 'Service', 'fulcrum').spec.ports[0].targetPort = 8081;
    byNameIn(docs, 'ServiceMonitor', 'fulcrum-proxy').spec.endpoints[0].port = 'prometheus';
    byNameIn(docs, 'PodDisruptionBudget', 'fulcrum-proxy').spec.maxUnavailable = 2;
    expect(referenceProblems(docs)).toEqual([
      'Deployment/fulcrum-proxy container proxy: readinessProbe port admin is not a declared container port',
      "Service/fulcrum-server: selector matches 0 Deployments' pods, expected 1",
      'Service/fulcrum: port http targets 8081, not a container port of fulcrum-proxy',
      'PodDisruptionBudget/fulcrum-proxy: allows 2 of 2 pods down; want at least 1 and fewer than all',
      'ServiceMonitor/fulcrum-proxy: port prometheus is missing on a selected Service',
    ]);
  });

  it('replicas sit behind a headless Service that the proxy discovers by name, port and probes as specified', () => {
    const headless = byName('Service', 'fulcrum-server');
    expect(headless.spec.clusterIP).toBe('None');
    const proxy = containerOf('fulcrum-proxy');
    expect(flagValue(proxy.args, 'discover')).toBe(`${headless.metadata.name}:${headless.spec.ports[0].port}`);
    expect(proxy.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'metrics' });
    expect(proxy.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'metrics' });
    expect(proxy.ports.find((p: { name: string }) => p.name === 'metrics').containerPort).toBe(9090);
    // The admin token only ever comes from the Secret docs/deploy.md creates, for the proxy and the monitor alike.
    expect(proxy.env).toContainEqual({ name: 'FULCRUM_ADMIN_TOKEN', valueFrom: { secretKeyRef: { name: 'fulcrum-admin', key: 'token' } } });
    expect(byName('ServiceMonitor', 'fulcrum-proxy').spec.endpoints[0].authorization.credentials).toEqual({ name: 'fulcrum-admin', key: 'token' });
    expect(readFileSync('docs/deploy.md', 'utf8')).toContain('kubectl create secret generic fulcrum-admin --from-literal=token=');
    // The client-facing Service does not expose the admin port.
    expect(byName('Service', 'fulcrum').spec.ports.map((p: { name: string }) => p.name)).toEqual(['http']);
  });

  it('the routing ConfigMap the proxy mounts passes the proxy config parser and equals live/deploy/routing.json', () => {
    const { problems, json } = proxyRouting(all, 'fulcrum-proxy');
    expect(problems).toEqual([]);
    expect(json).toEqual(JSON.parse(readFileSync('live/deploy/routing.json', 'utf8')));
  });

  it('the pods run the image as built: its numeric non-root user, its two entry files, its base default', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toMatch(/^ARG BASE=node:24-slim$/m);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    for (const dep of ['fulcrum-proxy', 'fulcrum-server']) {
      const pod = byName('Deployment', dep).spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
      const entry = pod.containers[0].args[0] as string;
      expect(dockerfile).toContain(`/src/.build/app/${entry.slice('/app/'.length)}`);
    }
  });

  it('both containers\' args are accepted by the programs\' own CLIs (strict flag parsing)', async () => {
    for (const [dep, entry] of [['fulcrum-proxy', 'live/proxy/cli.ts'], ['fulcrum-server', 'server/cli.ts']] as const) {
      const [script, ...args] = containerOf(dep).args as string[];
      expect(script).toBe(dep === 'fulcrum-proxy' ? '/app/proxy.mjs' : '/app/server.mjs');
      // --help after a strict parse of every flag: exit 0 only if all of them are known and well-typed.
      const { stdout } = await run(process.execPath, ['--import', 'tsx', entry, ...args, '--help']);
      expect(stdout).toMatch(/^usage: /);
    }
    // And the same check fails on a flag the CLI does not know.
    await expect(run(process.execPath, ['--import', 'tsx', 'live/proxy/cli.ts', '--discovr=x:1', '--help'])).rejects.toMatchObject({ code: 2 });
  });
});

function byNameIn(docs: Doc[], kind: string, name: string): Doc {
  return docs.find((d) => d.kind === kind && d.metadata.name === name)!;
}
