/**
 * A query–product pair as "field: value" lines — the chat wire format `lref serve` reads
 * (serve/protocol.ts pairFromChat) and `lref judge` writes, kept here so neither depends on the other.
 */

export interface LinePair {
  query: string;
  title: string;
  brand?: string;
  color?: string;
  category?: string;
  description?: string;
  attributes?: Record<string, string>;
}

/** "size=10 ft; material=steel" → {size: "10 ft", material: "steel"}. */
export function parseAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}

/** The inverse of pairFromChat's line format: what a client (lref judge) sends to grade a pair. */
export function chatLines(p: LinePair): string {
  const lines = [`query: ${p.query}`, `title: ${oneLine(p.title)}`];
  if (p.brand) lines.push(`brand: ${oneLine(p.brand)}`);
  if (p.color) lines.push(`color: ${oneLine(p.color)}`);
  if (p.category) lines.push(`category: ${oneLine(p.category)}`);
  const attrs = Object.entries(p.attributes ?? {});
  if (attrs.length > 0) lines.push(`attributes: ${attrs.map(([k, v]) => `${oneLine(k).replace(/[=;]/g, ' ')}=${oneLine(v).replace(/;/g, ',')}`).join('; ')}`);
  if (p.description) lines.push(`description: ${oneLine(p.description)}`);
  return lines.join('\n');
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ');
