import { UserError } from '../util/errors.ts';
import type { ParsedArgs } from './command.ts';

/** Typed readers for parsed option values, each with an error that names the flag. */
export function optString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function reqString(args: ParsedArgs, name: string): string {
  const v = optString(args, name);
  if (v === undefined || v === '') throw new UserError(`--${name} is required`);
  return v;
}

export function optInt(args: ParsedArgs, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  const v = optString(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name} must be an integer in [${min}, ${max}], got "${v}"`);
  return n;
}

export function optFloat(args: ParsedArgs, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  const v = optString(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UserError(`--${name} must be a number in [${min}, ${max}], got "${v}"`);
  return n;
}

export function optBool(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
