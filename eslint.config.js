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
    // Tests may build fixtures with longer bodies; the limits that matter stay on.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { complexity: 'off' },
  },
  {
    // The dashboard's browser modules (served as they are, no build step): the browser's globals.
    files: ['http/ui/static/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'EventSource', 'CSS', 'addEventListener', 'fetch', 'crypto', 'TextEncoder', 'TextDecoder', 'URL', 'URLSearchParams', 'HTMLElement', 'HTMLMeterElement', 'HTMLInputElement', 'HTMLTextAreaElement', 'HTMLFormElement', 'localStorage', 'atob', 'btoa', 'console'].map((g) => [g, 'readonly']),
      ),
    },
    rules: { complexity: ['error', 10], 'max-depth': ['error', 3], 'max-params': ['error', 4] },
  },
  // Which folder may import which (docs/adr/0013-layers-point-inward.md).
  ...layers,
);
