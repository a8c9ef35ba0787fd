import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_VSCODE = { name: 'vscode', message: 'This layer is vscode-free; use an adapter.' };
const COMMANDS_ARE_ABOVE = { group: ['**/commands/**', '**/commands'], message: 'Views do not import commands; shared services and types live in src/app/.' };
/** The view files that adapt the pure tree model to VS Code. */
const VIEW_ADAPTERS = ['src/views/registriesProvider.ts', 'src/views/localImagesProvider.ts', 'src/views/statusBar.ts', 'src/views/documents.ts', 'src/views/vscodeTreeItem.ts', 'src/views/imageFileSystem.ts', 'src/views/workspaceFolders.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.cache/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // Only the thin adapters and the extension's UI layers may touch vscode.
    files: ['src/oci/**', 'src/client/**', 'src/server/**', 'src/engine/**', 'src/credentials/**', 'src/image/**', 'src/app/**', 'src/local/**', 'src/views/**'],
    ignores: ['src/credentials/secretStore.ts', ...VIEW_ADAPTERS],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_VSCODE] }] },
  },
  {
    // Layers import only downward: app/ and local/ know nothing of views or commands.
    files: ['src/app/**', 'src/local/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_VSCODE], patterns: [{ group: ['**/views/**', '**/views', '**/commands/**', '**/commands'], message: 'app/ and local/ sit below views and commands; move the shared piece into app/.' }] }] },
  },
  {
    // image/ is the core the views and commands show: it never reaches up into them.
    files: ['src/image/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_VSCODE], patterns: [{ group: ['**/views/**', '**/views', '**/commands/**', '**/commands'], message: 'image/ sits below views and commands; move the shared piece into oci/ or app/.' }] }] },
  },
  {
    files: ['src/views/**'],
    ignores: VIEW_ADAPTERS,
    rules: { 'no-restricted-imports': ['error', { paths: [NO_VSCODE], patterns: [COMMANDS_ARE_ABOVE] }] },
  },
  {
    // The vscode adapters of the views may import vscode, still never commands.
    files: VIEW_ADAPTERS,
    rules: { 'no-restricted-imports': ['error', { patterns: [COMMANDS_ARE_ABOVE] }] },
  },
);
