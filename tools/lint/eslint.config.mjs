// ESLint for the whole repository (loaded through ../../eslint.config.mjs, so file patterns are
// the repository's). typescript-eslint's type-aware rules run on TypeScript 6.0 from this
// workspace: the project compiles with TypeScript 7, which has no compiler API for them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'test/fixtures/**', 'data/**', 'bench/results/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: new URL('../..', import.meta.url).pathname },
      globals: globals.node,
    },
    rules: {
      // The type-aware rules this code base needs most: promises dropped or misused are lost
      // errors and unanswered requests in a server.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // Not no-unnecessary-type-assertion: it judges with TypeScript 6, and TypeScript 7, which
      // compiles the project, needs some of the assertions 6 calls unnecessary.
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // Unused names are tsc's job (noUnusedLocals / noUnusedParameters); `_`-prefixed ones are meant.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['src/dashboard/assets/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read loosely typed JSON answers.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
