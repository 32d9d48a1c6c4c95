// Lint: typescript-eslint's recommended rules everywhere, plus the purity guard for the
// routing core and the simulator's model (no wall clock, no Math.random, no timers, no
// node:* I/O) and the layering guard: no package imports "upward" (see LAYERS).
import tseslint from 'typescript-eslint';

const impure = {
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'core/ is pure: time is an argument.' },
    { name: 'setInterval', message: 'core/ is pure: time is an argument.' },
    { name: 'setImmediate', message: 'core/ is pure: time is an argument.' },
    { name: 'performance', message: 'core/ is pure: time is an argument.' },
    { name: 'process', message: 'core/ is pure: no process access.' },
  ],
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'core/ is pure: pass nowMs in.' },
    { object: 'Math', property: 'random', message: 'core/ is pure: pass a seeded Rng in.' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core/ is pure: pass nowMs in.' },
  ],
};
const noIo = { group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'os', 'dgram', 'timers', 'timers/*'], message: 'core/ is pure: no I/O.' };

/**
 * What each package may not import (relative paths only; the tests and benchmarks may use
 * anything). core imports nothing of the project; the shared http helpers nothing either;
 * experiments (schema, workload, result files) only core; the engines core and experiments;
 * the proxy core and http, never the runner or the experiment files; reports no engine.
 */
const LAYERS = [
  { files: ['core/**/*.ts'], forbidden: ['sim', 'live', 'server', 'experiments', 'reports', 'http', 'test', 'bench'] },
  { files: ['http/**/*.ts'], forbidden: ['core', 'sim', 'live', 'server', 'experiments', 'reports', 'test', 'bench'] },
  { files: ['experiments/**/*.ts'], forbidden: ['sim', 'live', 'server', 'reports', 'http', 'test', 'bench'] },
  { files: ['sim/**/*.ts'], forbidden: ['live', 'server', 'reports', 'http', 'test', 'bench'] },
  { files: ['live/proxy/**/*.ts'], forbidden: ['sim', 'experiments', 'server', 'reports', 'runner', 'live/runner', 'test', 'bench'] },
  { files: ['live/runner/**/*.ts'], forbidden: ['sim', 'server', 'reports', 'test', 'bench'] },
  { files: ['server/**/*.ts'], forbidden: ['sim', 'live', 'experiments', 'reports', 'test', 'bench'] },
  { files: ['reports/**/*.ts'], forbidden: ['sim', 'live', 'server', 'test', 'bench'] },
];

/** A relative import that climbs out of the package into one of `forbidden`. */
const upward = (forbidden) => ({
  regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`,
  message: 'imports upward: see LAYERS in eslint.config.js (core ← experiments ← engines; reports import no engine).',
});

export default tseslint.config(
  { ignores: ['node_modules/**', '.build/**', 'reports/**/*.html', 'reports/**/*.js', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  ...LAYERS.map(({ files, forbidden }) => ({
    files, rules: { 'no-restricted-imports': ['error', { patterns: [upward(forbidden)] }] },
  })),
  // After the layers: the pure code gets both guards in one rule (a later entry replaces a rule's options).
  { files: ['core/**/*.ts'], rules: { ...impure, 'no-restricted-imports': ['error', { patterns: [noIo, upward(LAYERS[0].forbidden)] }] } },
  {
    files: ['sim/model/**/*.ts', 'sim/engine/**/*.ts'],
    rules: { ...impure, 'no-restricted-imports': ['error', { patterns: [noIo, upward(LAYERS[3].forbidden)] }] },
  },
);
