import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './lint/layers.mjs';

/** Workflow-safe library code (lib/spec, lib/stats, lib/policy, lib/evidence) must not read clocks or draw random numbers: workflows replay it. */
const noClocks = [
  { object: 'Date', property: 'now', message: 'workflow-safe code takes the time as an argument (the workflow passes its own deterministic time)' },
  { object: 'Math', property: 'random', message: 'workflow-safe code draws randomness from lib/stats/seeded-random' },
  { object: 'performance', property: 'now', message: 'workflow-safe code reads no clock' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.retrain/**', 'dist/**', 'bin/**', 'test/replay/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { retrain: layers },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'retrain/layers': 'error',
      'retrain/folder-cycles': 'error',
    },
  },
  {
    files: ['lib/spec/**/*.ts', 'lib/stats/**/*.ts', 'lib/policy/**/*.ts', 'lib/evidence/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', ...noClocks],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'workflow-safe code does not wait' }, { name: 'setInterval', message: 'workflow-safe code does not wait' }, { name: 'process', message: 'workflow-safe code reads no process state' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'workflow-safe code takes the time as an argument, not `new Date()`' }],
    },
  },
);
