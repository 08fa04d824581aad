import { z } from 'zod';
import { parseAttributes } from '../text/pair-lines.ts';

/**
 * The request bodies `lref serve` accepts, as zod schemas (the single source of their types), and
 * OpenAI's error shape. Chat requests follow the OpenAI chat-completions API: unknown fields
 * (temperature, top_p, user, …) are accepted and ignored, as other OpenAI-compatible servers do,
 * so the official client works unchanged.
 */

/** One product to grade for a query; `color` joins the attributes the prompt shows. */
export const RelevancePair = z
  .object({
    query: z.string().trim().min(1),
    title: z.string().trim().min(1),
    description: z.string().optional(),
    brand: z.string().optional(),
    color: z.string().optional(),
    category: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type RelevancePair = z.infer<typeof RelevancePair>;

/** Pairs per /v1/relevance request: one request is one scoring batch at most. */
export const MAX_PAIRS_PER_REQUEST = 256;

export const RelevanceRequest = z
  .object({
    pairs: z.array(RelevancePair).min(1).max(MAX_PAIRS_PER_REQUEST),
    /** also write a rationale (CoT variants: generated, one decode per pair; slower) */
    rationale: z.boolean().default(false),
  })
  .strict();
export type RelevanceRequest = z.infer<typeof RelevanceRequest>;

export interface RelevanceResult {
  grade: string;
  /** grade → probability, in the scheme's order (best → worst) */
  probs: Record<string, number>;
  rationale?: string;
}

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string() });
export const ChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(TextPart)]).nullable().optional(),
});

export const ChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(ChatMessage).min(1),
  stream: z.boolean().nullable().optional(),
  n: z.number().int().min(1).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function apiError(message: string, type: string, code: string | null = null, param: string | null = null): ApiErrorBody {
  return { error: { message, type, param, code } };
}

/** The first issue of a failed parse as "path: message" (the request field at fault first). */
export function issueText(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0];
  const path = issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = [...issue.path, issue.keys[0]].join('.');
    return { message: `${key}: unknown field`, param: key };
  }
  return { message: `${path || '(body)'}: ${issue.message}`, param: path || null };
}

/**
 * The pair a chat message asks about. The last user message is either a JSON object with the
 * RelevancePair fields, or "field: value" lines (query, title or product, brand, color, category,
 * description, and "attributes: size=10 ft; material=steel"), the way a person pastes a pair into a chat.
 */
export function pairFromChat(messages: z.infer<typeof ChatMessage>[]): RelevancePair | { error: string } {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return { error: 'messages: no user message to grade' };
  const text = typeof last.content === 'string' ? last.content : (last.content ?? []).map((p) => p.text).join('\n');
  const trimmed = text.trim();
  let raw: Record<string, unknown>;
  if (trimmed.startsWith('{')) {
    try {
      raw = JSON.parse(trimmed) as Record<string, unknown>;
    } catch (e) {
      return { error: `messages: the user message starts with "{" but is not valid JSON (${(e as Error).message})` };
    }
  } else {
    // Only the known field names are read; any other line (an instruction, a greeting) is ignored.
    raw = {};
    for (const line of trimmed.split('\n')) {
      const m = /^\s*(query|title|product|brand|color|category|description|attributes)\s*:\s*(.*)$/i.exec(line);
      if (!m) continue;
      const key = m[1].toLowerCase();
      const value = m[2].trim();
      if (key === 'attributes') raw.attributes = parseAttributes(value);
      else raw[key === 'product' ? 'title' : key] = value;
    }
  }
  const parsed = RelevancePair.safeParse(raw);
  if (!parsed.success) {
    const { message } = issueText(parsed.error);
    return { error: `messages: the user message must name a query and a product title (JSON, or "query: …" and "title: …" lines): ${message}` };
  }
  return parsed.data;
}
