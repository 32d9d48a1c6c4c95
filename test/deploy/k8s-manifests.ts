// Offline checks of the Kubernetes manifests: each document against the Kubernetes schemas
// (kubernetes-models, the API's OpenAPI types; the ServiceMonitor against the Prometheus
// Operator's CRD schema), then the references between documents that no schema sees:
// selectors, named ports, probes, volumes, the routing ConfigMap, the proxy's flags.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseRoutingConfig } from '../../live/proxy/config.ts';

// What a manifest document is, loosely: the schemas validated the details already.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Doc = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [k: string]: any };

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** Every YAML document of a file; YAML syntax errors throw with their line. */
export function readManifests(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).filter((d) => d.contents !== null).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJS() as Doc;
  });
}

/** Schema problems, one line per document that fails (`Kind/name: message`). */
export function schemaProblems(docs: Doc[]): string[] {
  const problems: string[] = [];
  for (const doc of docs) {
    const where = `${doc.kind}/${doc.metadata?.name}`;
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    if (!Model) { problems.push(`${where}: no schema for ${doc.apiVersion} ${doc.kind}`); continue; }
    try { new Model(doc).validate(); } catch (err) { problems.push(`${where}: ${(err as Error).message}`); }
  }
  return problems;
}

const matches = (selector: Record<string, string> = {}, labels: Record<string, string> = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** `--name=value` / `--name value` from an args list. */
export function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

const portOf = (hostPort: string | undefined) => Number(/:(\d+)$/.exec(hostPort ?? '')?.[1]);

/** References between documents that the schemas cannot check. */
export function referenceProblems(docs: Doc[]): string[] {
  const problems: string[] = [];
  const of = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployments = of('Deployment');
  const podsFor = (selector: Record<string, string>) => deployments.filter((d) => matches(selector, d.spec.template.metadata?.labels));
  const containerPort = (dep: Doc, port: string | number) => dep.spec.template.spec.containers
    .flatMap((c: any) => c.ports ?? []).find((p: any) => p.name === port || p.containerPort === port);

  for (const dep of deployments) {
    const where = `Deployment/${dep.metadata.name}`;
    const pod = dep.spec.template.spec;
    if (!matches(dep.spec.selector.matchLabels, dep.spec.template.metadata?.labels)) problems.push(`${where}: selector does not match its pod labels`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
    const volumes = new Map<string, any>((pod.volumes ?? []).map((v: any) => [v.name, v]));
    for (const v of volumes.values()) {
      if (v.configMap && !of('ConfigMap').some((c) => c.metadata.name === v.configMap.name)) problems.push(`${where}: volume ${v.name} names ConfigMap ${v.configMap.name}, which is not defined`);
    }
    for (const c of pod.containers) {
      const cw = `${where} container ${c.name}`;
      for (const probe of ['readinessProbe', 'livenessProbe']) {
        const port = c[probe]?.httpGet?.port;
        if (port === undefined) problems.push(`${cw}: no ${probe}.httpGet`);
        else if (!(c.ports ?? []).some((p: any) => p.name === port || p.containerPort === port)) problems.push(`${cw}: ${probe} port ${port} is not a declared container port`);
      }
      for (const kind of ['requests', 'limits']) {
        if (!c.resources?.[kind]?.cpu || !c.resources?.[kind]?.memory) problems.push(`${cw}: resources.${kind} needs cpu and memory`);
      }
      if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${cw}: readOnlyRootFilesystem must be true`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${cw}: allowPrivilegeEscalation must be false`);
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${cw}: volumeMount ${m.name} has no volume`);
      // The program's own listen flags must be the ports the pod declares.
      const args: string[] = c.args ?? [];
      const listens = [flagValue(args, 'port'), flagValue(args, 'listen'), flagValue(args, 'admin')]
        .filter((v) => v !== undefined).map((v) => (/^\d+$/.test(v!) ? Number(v) : portOf(v)));
      for (const port of listens) if (!containerPort(dep, port)) problems.push(`${cw}: listens on ${port}, not a declared container port`);
    }
  }

  for (const svc of of('Service')) {
    const where = `Service/${svc.metadata.name}`;
    const pods = podsFor(svc.spec.selector);
    if (pods.length !== 1) { problems.push(`${where}: selector matches ${pods.length} Deployments' pods, expected 1`); continue; }
    for (const p of svc.spec.ports) {
      if (!containerPort(pods[0], p.targetPort ?? p.port)) problems.push(`${where}: port ${p.name} targets ${p.targetPort ?? p.port}, not a container port of ${pods[0].metadata.name}`);
    }
  }

  for (const pdb of of('PodDisruptionBudget')) {
    const where = `PodDisruptionBudget/${pdb.metadata.name}`;
    const pods = podsFor(pdb.spec.selector?.matchLabels);
    if (pods.length !== 1) { problems.push(`${where}: selector matches ${pods.length} Deployments' pods, expected 1`); continue; }
    const replicas = pods[0].spec.replicas ?? 1;
    const allowed = pdb.spec.maxUnavailable ?? replicas - (pdb.spec.minAvailable ?? 0);
    if (!(allowed >= 1 && allowed < replicas)) problems.push(`${where}: allows ${allowed} of ${replicas} pods down; want at least 1 and fewer than all`);
  }

  for (const sm of of('ServiceMonitor')) {
    const where = `ServiceMonitor/${sm.metadata.name}`;
    const services = of('Service').filter((s) => matches(sm.spec.selector?.matchLabels, s.metadata.labels));
    if (services.length === 0) problems.push(`${where}: selector matches no Service`);
    for (const e of sm.spec.endpoints) {
      if (!services.every((s) => s.spec.ports.some((p: any) => p.name === e.port))) problems.push(`${where}: port ${e.port} is missing on a selected Service`);
    }
  }
  return problems;
}

/** The proxy container's routing config: the ConfigMap key its --config flag reads, validated by the proxy's parser. */
export function proxyRouting(docs: Doc[], deploymentName: string): { problems: string[]; json?: unknown } {
  const dep = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === deploymentName);
  const c = dep?.spec.template.spec.containers[0];
  const file = flagValue(c?.args ?? [], 'config');
  if (!file) return { problems: [`${deploymentName}: no --config flag`] };
  const mount = (c.volumeMounts ?? []).find((m: any) => file.startsWith(`${m.mountPath}/`));
  const volume = dep!.spec.template.spec.volumes.find((v: any) => v.name === mount?.name);
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === volume?.configMap?.name);
  const text = cm?.data?.[file.slice(mount?.mountPath.length + 1)];
  if (text === undefined) return { problems: [`${deploymentName}: --config ${file} is not a key of a mounted ConfigMap`] };
  const json = JSON.parse(text);
  const parsed = parseRoutingConfig(json);
  return { problems: parsed.ok ? [] : parsed.problems, json };
}
