/**
 * Which renderer shows an output bundle: the richest MIME type we can render safely wins, as in
 * JupyterLab's rendermime ranks. text/plain is the fallback every bundle from our kernel carries.
 */
export const MIME_RANK = [
  'application/vnd.lref.decisions+json',
  'application/vnd.lref.pairs+json',
  'application/vnd.lref.confusion+json',
  'application/vnd.lref.table+json',
  'application/vnd.lref.progress+json',
  'application/vnd.vegalite.v5+json',
  'application/vnd.vegalite.v4+json',
  'image/png',
  'image/jpeg',
  'image/svg+xml',
  'text/html',
  'text/markdown',
  'application/json',
  'text/plain',
] as const;
export type RenderedMime = (typeof MIME_RANK)[number];

export function pickMime(data: Record<string, unknown>): RenderedMime | undefined {
  return MIME_RANK.find((m) => data[m] !== undefined);
}

/** nbformat text may be a string or a list of lines. */
export function text(v: unknown): string {
  return Array.isArray(v) ? v.join('') : typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

/** Terminal colour codes from tracebacks and progress output, removed for display. */
export function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
