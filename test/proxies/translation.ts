// What the translation tests of every proxy share: a small valid experiment, and the
// settings or problem lines a proxy's translation makes of it with some sections added.
import { ExperimentError, parseExperiment, type RunConfig } from '../../experiments/schema.ts';

export const smallExperiment = (): Record<string, unknown> => ({
  name: 't', seed: 1,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 5 } } },
  workload: { requests: 10, arrival: { process: 'constant', ratePerSec: 10 } },
});

/** The first run of the small experiment with `extra` sections. */
export function config(extra: Record<string, unknown>): RunConfig {
  return parseExperiment({ ...smallExperiment(), ...extra }, 'test.json').runs[0].config;
}

/** The schema's own problem lines for the small experiment with `extra` (it must be rejected). */
export function schemaProblems(extra: Record<string, unknown>): string[] {
  try {
    parseExperiment({ ...smallExperiment(), ...extra }, 'test.json');
  } catch (e) {
    if (e instanceof ExperimentError) return e.problems;
    throw e;
  }
  throw new Error('expected the experiment to be rejected');
}

type Translation<S> = { settings: S; problems?: undefined } | { settings?: undefined; problems: string[] };

/** `settings(extra)` and `problems(extra)` for one proxy's translation. */
export function translator<S>(translate: (cfg: RunConfig) => Translation<S>) {
  return {
    settings(extra: Record<string, unknown>): S {
      const t = translate(config(extra));
      if (t.settings === undefined) throw new Error(`unexpected problems:\n${(t.problems ?? []).join('\n')}`);
      return t.settings;
    },
    problems(extra: Record<string, unknown>): string[] {
      const t = translate(config(extra));
      if (!t.problems) throw new Error('expected problems');
      return t.problems;
    },
  };
}
