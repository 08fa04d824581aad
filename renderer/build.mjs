#!/usr/bin/env node
// Builds the renderer into dist/renderer (Vite) and writes the editor's `lref` API declarations
// beside it. Run by `npm ci` (prepare) and by `lref app` when the build is missing or older than
// its sources. As an install step it never fails the install: `lref app` says what went wrong.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const strict = process.argv.includes('--strict');
try {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.config.ts'), root: join(root, 'renderer'), logLevel: 'warn' });
  const { register } = await import('tsx/esm/api');
  register();
  const { emitEditorTypes } = await import('../core/app/editor-types.ts');
  writeFileSync(join(root, 'dist/renderer/lref-types.json'), JSON.stringify(emitEditorTypes()));
  console.log('[renderer] built dist/renderer');
} catch (e) {
  console.warn(`[renderer] warning: the app's UI was not built: ${e instanceof Error ? e.message : e}`);
  if (strict) process.exit(1);
}
