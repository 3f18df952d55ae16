// Lint limits from ../shared/conventions.md (after Pepr): small functions, shallow nesting, no floating promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layers } from './eslint.layers.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tai/', 'bench/results/', 'config/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      complexity: ['error', 10],
      'max-depth': ['error', 3],
      'max-params': ['error', 4],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dashboard's browser modules (plain ESM, JSDoc-typed, checked by tsc): the same limits, browser globals.
    files: ['http/ui/static/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['addEventListener', 'atob', 'btoa', 'console', 'crypto', 'CSS', 'document', 'EventSource', 'fetch', 'localStorage', 'Response', 'TextDecoder', 'TextEncoder'].map((name) => [name, 'readonly']),
      ),
    },
    rules: { complexity: ['error', 10], 'max-depth': ['error', 3], 'max-params': ['error', 4] },
  },
  {
    // Tests may build fixtures with longer bodies; the limits that matter stay on.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { complexity: 'off' },
  },
  // Which folder may import which (docs/adr/0013-layers-point-inward.md).
  ...layers,
);
