// An experiment → the config a proxy would run it with, for a user to adapt and deploy:
// HAProxy's haproxy.cfg (the text the live runner starts HAProxy with, servers at
// placeholder addresses) or Fulcrum's proxy --config JSON. Whatever the target cannot
// express is a problem, never dropped.
import type { ExperimentPlan, PlannedRun, RunConfig } from '../../experiments/schema.ts';
import type { ProxyName } from '../../experiments/proxies.ts';
import { haproxySettings } from '../../experiments/proxies/haproxy.ts';
import { haproxyConfig } from '../runner/proxies/haproxy/config.ts';
import { changeProblems } from '../runner/proxies/haproxy/runtime-api.ts';
import type { CaddySettings } from '../../experiments/proxies/caddy-settings.ts';
import { caddySettings } from '../../experiments/proxies/caddy.ts';
import { caddyConfigText, upstreamName } from '../runner/proxies/caddy/config.ts';
import { namesUpstreams } from '../runner/proxies/caddy/launcher.ts';
import { nginxSettings } from '../../experiments/proxies/nginx.ts';
import { nginxConfig, nginxWeight } from '../runner/proxies/nginx/config.ts';

/** RFC 5737's documentation network: addresses that reach nothing until the user edits them. */
export const placeholderUrl = (index: number): string => `http://192.0.2.${index + 1}:80`;

export interface ExportChoice { to: ProxyName; variant?: string; sweep?: string }

/** The config text, and lines for the user (printed to stderr) when the format has no comments. */
export type ExportResult = { text: string; notes?: string[]; problems?: undefined } | { text?: undefined; problems: string[] };

/** The run `--variant` / `--sweep` pick; the file's first when a flag is left out. */
export function chooseRun(plan: ExperimentPlan, choice: ExportChoice): { run: PlannedRun; notes: string[] } | { problems: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  let runs = plan.runs;
  const variants = [...new Set(runs.map((r) => r.variant?.name).filter((v): v is string => v !== undefined))];
  if (choice.variant !== undefined) {
    runs = runs.filter((r) => r.variant?.name === choice.variant);
    if (runs.length === 0) problems.push(`--variant: got ${JSON.stringify(choice.variant)}; ${variants.length ? `allowed: ${variants.join(', ')}` : `${plan.name} has no variants`}`);
  } else if (variants.length > 1) {
    runs = runs.filter((r) => r.variant?.name === variants[0]);
    notes.push(`variant ${variants[0]} (of ${variants.join(', ')}; --variant NAME picks another)`);
  }
  const points = [...new Set(runs.map((r) => String(r.sweepValue)))];
  if (plan.sweep && runs.length > 0) {
    if (choice.sweep !== undefined) {
      runs = runs.filter((r) => String(r.sweepValue) === choice.sweep);
      if (runs.length === 0) problems.push(`--sweep: got ${JSON.stringify(choice.sweep)}; allowed values of ${plan.sweep.path}: ${points.join(', ')}`);
    } else if (points.length > 1) {
      notes.push(`${plan.sweep.path} = ${points[0]} (of ${points.join(', ')}; --sweep VALUE picks another)`);
    }
  } else if (choice.sweep !== undefined) {
    problems.push(`--sweep: ${plan.name} has no sweep`);
  }
  return problems.length ? { problems } : { run: runs[0], notes };
}

const weightOf = (cfg: RunConfig, id: string): number => cfg.servers.overrides[id]?.weight ?? cfg.servers.template.weight;

const serverIds = (cfg: RunConfig): string[] => Array.from({ length: cfg.servers.count }, (_, i) => `s${i + 1}`);

/** haproxy.cfg for one run, or every problem: the translation's, and `changes` HAProxy's runtime API refuses. */
export function exportHaproxy(plan: ExperimentPlan, run: PlannedRun, notes: string[]): ExportResult {
  const cfg = run.config;
  const translated = haproxySettings(cfg);
  const problems = [...(translated.problems ?? [])];
  const weights = serverIds(cfg).map((id) => weightOf(cfg, id));
  if (translated.settings) problems.push(...changeProblems(translated.settings.balance, cfg.changes, (id) => weightOf(cfg, id)));
  if (problems.length || !translated.settings) return { problems };
  const comments = [
    `HAProxy 2.6 config for experiment ${plan.name}${run.dir ? ` (${run.dir})` : ''}, printed by npm run export (Fulcrum).`,
    ...notes.map((n) => `Exported: ${n}.`),
    `EDIT BEFORE USE: servers s1…s${cfg.servers.count} are at placeholder addresses 192.0.2.x:80 (RFC 5737, reach nothing); put your servers' addresses there, and your listen address on "bind".`,
    ...(translated.settings.check ? [`The health check asks GET ${translated.settings.check.path} (Fulcrum's replicas answer it); point it at your servers' health endpoint.`] : []),
    ...cfg.changes.map((c) => `changes at ${c.atMs} ms (runtime API on the stats socket): ${changeCommand(c)}`),
  ];
  const out = haproxyConfig({
    settings: translated.settings,
    backends: serverIds(cfg).map((id, i) => ({ id, url: placeholderUrl(i), weight: weights[i] })),
    bind: '*:8080',
    statsSocket: '/run/haproxy/admin.sock',
    comments,
  });
  return 'problems' in out ? { problems: out.problems } : { text: out.text };
}

function changeCommand(c: RunConfig['changes'][number]): string {
  if (c.kind === 'weight') return `set server servers/${c.server} weight ${c.weight}`;
  if (c.kind === 'add') return `add server servers/${c.server} <address> weight ${c.weight ?? 1}, then enable server servers/${c.server}`;
  return `disable server servers/${c.server}, wait for its connections to end, del server servers/${c.server}`;
}

/**
 * Caddy's JSON config for one run (`caddy run --config caddy.json`), or every problem: the
 * translation's, and weight `changes` (Caddy 2.6 has no upstream weights). JSON has no
 * comments, so what to edit goes to stderr as notes. The upstreams are named as the live
 * runner names them, so a deployed ip_hash hashes as the prediction did.
 */
export function exportCaddy(plan: ExperimentPlan, run: PlannedRun, notes: string[], translated: { settings?: CaddySettings; problems?: string[] }): ExportResult {
  const cfg = run.config;
  const problems = new Set(translated.problems ?? []);
  cfg.changes.forEach((c, i) => { if (c.kind === 'weight') problems.add(`changes[${i}].weight: ${c.weight} on ${c.server}: Caddy 2.6 has no upstream weights (weighted_round_robin came in 2.7); leave weights out`); });
  if (problems.size || !translated.settings) return { problems: [...problems] };
  const settings = translated.settings;
  const named = namesUpstreams(settings);
  const text = caddyConfigText({
    settings,
    backends: serverIds(cfg).map((id, i) => ({ id, url: placeholderUrl(i) })),
    listen: ':8080',
    admin: 'localhost:2019',
    namedUpstreams: named,
  });
  return {
    text,
    notes: [
      `Caddy 2.6 JSON config for experiment ${plan.name}${run.dir ? ` (${run.dir})` : ''}, printed by npm run export (Fulcrum); run it with: caddy run --config caddy.json`,
      ...notes.map((n) => `Exported: ${n}.`),
      `EDIT BEFORE USE: servers s1…s${cfg.servers.count} are at placeholder addresses 192.0.2.x:80 (RFC 5737, reach nothing)${named ? ' in the "vars" handler (the upstreams dial {http.vars.sN}, so ip_hash hashes the names, as predicted)' : ' in "upstreams"'}; put your servers' addresses there, and your listen address on "listen".`,
      ...(settings.active ? [`The health check asks GET ${settings.active.uri} (Fulcrum's replicas answer it); point it at your servers' health endpoint.`] : []),
      'The DEBUG log to stdout is how Fulcrum measures every attempt; lower "level" to INFO in production.',
      ...cfg.changes.map((c) => `changes at ${c.atMs} ms (admin API, POST /load with the edited config): ${c.kind === 'add' ? `add ${named ? `{"dial": "${upstreamName(c.server)}"} to "upstreams" and ${c.server} to the vars handler` : `{"dial": "<address>"} to "upstreams"`}` : `remove ${c.server} from "upstreams"`}`),
    ],
  };
}

/**
 * nginx.conf for one run, or every problem: the translation's, and weights NGINX cannot
 * take (the servers' and the `changes`'). NGINX has no runtime API in its open-source
 * build: each change is an edit of the upstream block and a reload, listed as comments.
 */
export function exportNginx(plan: ExperimentPlan, run: PlannedRun, notes: string[]): ExportResult {
  const cfg = run.config;
  const translated = nginxSettings(cfg);
  const problems = [...(translated.problems ?? [])];
  cfg.changes.forEach((c, i) => {
    if (c.kind === 'remove' || c.weight === undefined) return;
    const w = nginxWeight(c.server, c.weight);
    if ('problem' in w) problems.push(`changes.${i}.weight: ${w.problem}`);
  });
  if (problems.length || !translated.settings) return { problems };
  const comments = [
    `NGINX 1.22 config for experiment ${plan.name}${run.dir ? ` (${run.dir})` : ''}, printed by npm run export (Fulcrum).`,
    ...notes.map((n) => `Exported: ${n}.`),
    `EDIT BEFORE USE: servers s1…s${cfg.servers.count} are at placeholder addresses 192.0.2.x:80 (RFC 5737, reach nothing); put your servers' addresses there, and your address on "listen".`,
    'Paths (pid, logs, temporary files) are relative to the prefix: run nginx -p DIR/ -c nginx.conf, or make them absolute.',
    ...cfg.changes.map((c) => `changes at ${c.atMs} ms: ${nginxChange(c)}, then reload (nginx -s reload, or SIGHUP to the master).`),
  ];
  const out = nginxConfig({
    settings: translated.settings,
    backends: serverIds(cfg).map((id, i) => ({ id, url: placeholderUrl(i), weight: weightOf(cfg, id) })),
    listen: '8080',
    comments,
  });
  return 'problems' in out ? { problems: out.problems } : { text: out.text };
}

function nginxChange(c: RunConfig['changes'][number]): string {
  if (c.kind === 'add') return `add "server <address> weight=${c.weight ?? 1} …; # ${c.server}" to the upstream block`;
  if (c.kind === 'remove') return `delete the server line of ${c.server}`;
  return c.weight === 0 ? `mark ${c.server} "down"` : `set weight=${c.weight} on ${c.server}`;
}

/** Fulcrum's proxy --config JSON (core RoutingSchema); the servers go on its command line. */
export function exportFulcrum(run: PlannedRun): ExportResult {
  const { balancer, health, retry, timeouts } = run.config;
  return { text: `${JSON.stringify({ balancer, health, retry, timeouts }, null, 2)}\n` };
}

/** The proxy command that goes with the exported Fulcrum config (printed to stderr). */
export function fulcrumCommand(cfg: RunConfig, configFile = 'lb.json'): string {
  const backends = serverIds(cfg).map((id, i) => `--backend ${id}=${placeholderUrl(i)}@${weightOf(cfg, id)}`);
  return `npm run proxy -- --config ${configFile} ${backends.join(' ')}   # placeholder addresses 192.0.2.x: put your servers' there`;
}

/** The exporters by target: a proxy name without one is refused with the list of those that have one. */
export const EXPORTERS: Partial<Record<ProxyName, (plan: ExperimentPlan, run: PlannedRun, notes: string[]) => ExportResult>> = {
  fulcrum: (_plan, run) => exportFulcrum(run),
  haproxy: exportHaproxy,
  nginx: exportNginx,
  caddy: (plan, run, notes) => exportCaddy(plan, run, notes, caddySettings(run.config)),
};
