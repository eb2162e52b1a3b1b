// ESLint for rxpg: typescript-eslint's type-aware recommended rules over every TypeScript file
// the project compiles (lib, spec, examples, bench). Run by spec/package/lint.spec.ts in
// `npm test` and by `npm run lint`. Formatting is prettier's job, not ESLint's.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', 'coverage/', 'docs/api/', '.rxpg-*/', '**/*.js', '**/*.cjs', '**/*.mjs'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Each file is checked with the tsconfig that compiles it (bench/ has its own).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `async` without `await` is used on purpose: async generators are the AsyncIterable
      // sources of COPY and interop specs, and an async function turns a synchronous throw into
      // a rejection.
      '@typescript-eslint/require-await': 'off',
      // Promise bridges settle with whatever the Observable errored with, unchanged: rxpg's
      // errors are Errors, and a user's source may error with anything.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: false }],
      // Consecutive case labels separated only by a comment about them share one body.
      'no-fallthrough': ['error', { allowEmptyCase: true }],
      // `const { password: _password, ...rest } = x` drops a property on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['spec/**/*.ts'],
    rules: {
      // Specs assert on values typed `any` by their libraries: jest's asymmetric matchers
      // (`expect.any(Number)`), rxjs's error callbacks, PromiseSettledResult's reason, Reflect.get.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['lib/wire/backend-message-decoder.ts'],
    rules: {
      // A message's type byte is a number read from the buffer, compared with the const enum
      // of protocol type bytes (inlined constants): no cast on the hot path.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
);
