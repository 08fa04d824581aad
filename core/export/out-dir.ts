import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { UserError } from '../util/errors.ts';

/**
 * Builds an output folder beside its final place and renames it in when `fill` returns, so `--out`
 * holds a whole export or nothing (an exception removes the half-built folder). Refuses an `--out`
 * that exists and is not empty rather than mixing two exports.
 */
export async function buildDirAtomic<T>(out: string, fill: (dir: string) => T | Promise<T>): Promise<T> {
  const target = resolve(out);
  if (existsSync(target) && readdirSync(target).length > 0) throw new UserError(`${out}: already exists and is not empty; choose another --out`);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.partial`);
  mkdirSync(tmp);
  try {
    const result = await fill(tmp);
    if (existsSync(target)) rmSync(target, { recursive: true }); // an empty folder
    renameSync(tmp, target);
    return result;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
