import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), found from this file's location. */
export function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

/**
 * A file under ../shared/data beside the checkout (real, licensed data sets that are never copied
 * into the project). Returns undefined when it is not there, so tests can skip with a message.
 */
export function sharedDataPath(rel: string): string | undefined {
  const p = resolve(repoRoot(), '../shared/data', rel);
  return existsSync(p) ? p : undefined;
}
