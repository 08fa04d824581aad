import DOMPurify from 'dompurify';
import { marked } from 'marked';

/** Kernel HTML and Markdown are untrusted (a notebook from anyone): scripts and handlers are removed. */
export function safeHtml(html: string): string {
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true, svg: true }, FORBID_TAGS: ['style', 'form'], FORBID_ATTR: ['style'] });
}

export function markdownHtml(md: string): string {
  return safeHtml(marked.parse(md, { async: false, gfm: true }) as string);
}
