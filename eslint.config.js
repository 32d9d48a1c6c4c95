// Lint: typescript-eslint's recommended rules everywhere, plus the purity guard for the
// routing core and the simulator's model: no wall clock, no Math.random, no timers, no node:* I/O.
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
  'no-restricted-imports': ['error', { patterns: [
    { group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'os', 'dgram', 'timers', 'timers/*'], message: 'core/ is pure: no I/O.' },
  ] }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.build/**', 'reports/**/*.html', 'reports/**/*.js', '**/*.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['core/**/*.ts', 'sim/model/**/*.ts', 'sim/engine/**/*.ts'], rules: impure },
);
