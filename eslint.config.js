// Lint: typescript-eslint's type-checked recommended rules over src/, test/,
// scripts/ and bench/. Every rule turned off or loosened says why.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'data/**', 'reports/**', 'node_modules/**', 'test-artifacts/**', '.build-run-*/**', '.build-test-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      // Interfaces are often implemented by async functions that happen not to await
      // (an in-memory store beside a Redis one): the signature is the contract.
      '@typescript-eslint/require-await': 'off',
      // Our interfaces are implemented by closures that factories return (never
      // by methods that read `this`), so passing `store.get` or `db.stop` along
      // is safe; the rule cannot tell a method signature from such a property.
      '@typescript-eslint/unbound-method': 'off',
      // A leading underscore marks a parameter kept for its position in a callback signature.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read JSON answers and log lines whose shape is what they assert;
      // typing every parsed body first would only restate the assertions.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The dashboard's browser script: plain JavaScript, run in the page with uPlot loaded before it.
    files: ['src/dashboard/public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.browser, uPlot: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
