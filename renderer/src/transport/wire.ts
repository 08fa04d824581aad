import { AppEvent, parseResult, type Op, type Response, type ResultOf } from '../../../core/app/contract.ts';

/** An error from core, with the contract's code (conflict, forbidden, …) for the UI to act on. */
export class CallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

/** A response core sent for `op`, as the caller's result: a failure throws its CallError, a result is checked. */
export function settle<K extends Op>(op: K, res: Response): ResultOf<K> {
  if (!res.ok) throw new CallError(res.error.code, res.error.message);
  return parseResult(op, res.result);
}

/** An event from core, checked; a malformed one is logged and dropped. */
export function parseEvent(raw: unknown): AppEvent | undefined {
  const ev = AppEvent.safeParse(raw);
  if (!ev.success) console.error('lref: malformed event from core', ev.error.issues[0]);
  return ev.success ? ev.data : undefined;
}
