// Lint rules: typescript-eslint's recommended set, React hooks rules for the renderer, and the
// layering rule that keeps lower layers from importing higher ones.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const layer = (from, forbidden) => ({
  files: [`${from}/**/*.ts`, `${from}/**/*.tsx`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({
          group: [`**/${f}/**`, `**/${f}`],
          message: `${from} must not import ${f} (layering)`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'release', 'test-artifacts', 'models', '.bench', 'test/fixtures'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    // incompatible-library only matters to the React Compiler, which this app does not use.
    rules: { ...reactHooks.configs.recommended.rules, 'react-hooks/incompatible-library': 'off' },
  },
  layer('electron/contract', [
    'engine',
    'workstation',
    'service',
    'main',
    'preload',
    'serve',
    'cli',
    'renderer',
  ]),
  layer('electron/engine', ['workstation', 'service', 'main', 'preload', 'serve', 'cli', 'renderer']),
  layer('electron/workstation', ['service', 'main', 'preload', 'serve', 'cli', 'renderer']),
  layer('electron/service', ['main', 'preload', 'serve', 'cli', 'renderer']),
  layer('renderer', ['engine', 'workstation', 'service', 'main', 'preload', 'serve', 'cli']),
);
