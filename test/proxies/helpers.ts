// What the translation tests of every proxy share: a small valid experiment, its first run's
// config with extra fields, the schema's problem lines, and a translation's two outcomes.
import { ExperimentError, parseExperiment, type RunConfig } from '../../experiments/schema.ts';

export const smallExperiment = (): Record<string, unknown> => ({
  name: 'p', seed: 1,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 5 } } },
  workload: { requests: 10, arrival: { process: 'constant', ratePerSec: 10 } },
});

/** The first run of the small experiment with `extra` fields. */
export function runConfig(extra: Record<string, unknown>): RunConfig {
  return parseExperiment({ ...smallExperiment(), ...extra }, 'test.json').runs[0].config;
}

/** The problem lines of a small experiment with `extra` fields the schema must reject. */
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

/** The settings of a translation that must succeed. */
export function settingsOf<S>(t: Translation<S>): S {
  if (!t.settings) throw new Error(`unexpected problems:\n${(t.problems ?? []).join('\n')}`);
  return t.settings;
}

/** The problems of a translation that must fail. */
export function problemsOf<S>(t: Translation<S>): string[] {
  if (!t.problems) throw new Error('expected problems');
  return t.problems;
}
