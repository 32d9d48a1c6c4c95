// Every proxy the simulator can predict, as two functions of a validated run: what the
// proxy cannot express (one line each naming the JSON path: the CLIs list them and exit 2
// before anything runs) and the run the simulator performs for it. Fulcrum runs any valid
// config as it is; each other proxy registers its translation and model here.
import type { ProxyRules } from '../../core/proxy-rules.ts';
import type { ProxyName } from '../proxies.ts';
import type { RunConfig } from '../schema.ts';
import { haproxySettings } from './haproxy.ts';
import { haproxyModelRun } from './haproxy-model.ts';
import { caddySettings } from './caddy.ts';
import { caddyModelRun } from './caddy-model.ts';
import { nginxSettings } from './nginx.ts';
import { nginxModelProblems, nginxModelRun } from './nginx-model.ts';

/** What the simulator runs for a proxy: the config with the model's routing, and the model's request rules. */
export interface ModelledRun {
  config: RunConfig;
  rules: ProxyRules;
}

export interface ProxyModel {
  /** What the proxy cannot express of `cfg`; empty when it can run it. */
  problems(cfg: RunConfig): string[];
  /** The modelled run; only called when problems(cfg) is empty. */
  run(cfg: RunConfig): ModelledRun;
}

const FULCRUM: ProxyModel = { problems: () => [], run: (config) => ({ config, rules: {} }) };

export const PROXY_MODELS: Partial<Record<ProxyName, ProxyModel>> = {
  fulcrum: FULCRUM,
  haproxy: {
    problems: (cfg) => haproxySettings(cfg).problems ?? [],
    run: (cfg) => {
      const t = haproxySettings(cfg);
      if (!t.settings) throw new Error(t.problems.join('\n'));
      const m = haproxyModelRun(cfg, t.settings);
      return { config: m.config, rules: { haproxy: m.rules } };
    },
  },
  caddy: {
    problems: (cfg) => caddySettings(cfg).problems ?? [],
    run: (cfg) => {
      const t = caddySettings(cfg);
      if (!t.settings) throw new Error(t.problems.join('\n'));
      const m = caddyModelRun(cfg, t.settings);
      return { config: m.config, rules: { caddy: m.rules } };
    },
  },
  nginx: {
    problems: (cfg) => {
      const t = nginxSettings(cfg);
      return t.problems ?? nginxModelProblems(cfg, t.settings);
    },
    run: (cfg) => {
      const t = nginxSettings(cfg);
      if (!t.settings) throw new Error(t.problems.join('\n'));
      const m = nginxModelRun(cfg, t.settings);
      return { config: m.config, rules: { nginx: m.rules } };
    },
  },
};

/** The model of `name`, or the one-line problem naming the proxies that have one. */
export function proxyModel(name: ProxyName): { model: ProxyModel } | { problem: string } {
  const model = PROXY_MODELS[name];
  return model ? { model } : { problem: `--proxy: "${name}" has no simulator model yet; allowed: ${Object.keys(PROXY_MODELS).join(', ')}` };
}
