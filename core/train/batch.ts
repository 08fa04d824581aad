import { UserError } from '../util/errors.ts';

/** One supervised example in token ids: loss is taken on the completion only. */
export interface LMExample {
  prompt: number[];
  completion: number[];
}

/**
 * A batch as plain arrays (no tensors, so building one can never leak); the step turns it into
 * tensors inside its own tidy. Row-major [batchSize, seqLen]; right-padded with padId.
 */
export interface TokenBatch {
  batchSize: number;
  seqLen: number;
  /** Model input: the sequence without its last token. */
  inputs: Int32Array;
  /** Next-token targets: the sequence without its first token (padId where padded). */
  targets: Int32Array;
  /** 1 where the target is a completion token: the only positions the loss counts. */
  lossMask: Float32Array;
  /** 1 where the input is a real token (0 on padding). */
  attention: Float32Array;
  /** Real (non-padding) input tokens: the throughput unit. */
  tokens: number;
  /** How many examples had their prompt shortened to fit. */
  truncated: number;
}

export interface BatchOptions {
  contextLength: number;
  /** 'longest' pads to the longest row (fewer FLOPs); 'context' always pads to contextLength. */
  padTo?: 'longest' | 'context';
  /**
   * Prompt tokens kept from the start when a prompt must be shortened (an instruction header);
   * the rest comes from the end, so the text nearest the answer survives. 0 = cut from the left.
   */
  keepPromptHead?: number;
  /** 0: the tokenizer's <pad>. */
  padId?: number;
}

/** `prompt` cut to `budget` tokens: its first `keepHead`, then its last ones (the middle goes). */
export function truncatePrompt(prompt: number[], budget: number, keepHead = 0): number[] {
  if (prompt.length <= budget) return prompt;
  if (budget <= 0) return [];
  const head = Math.min(keepHead, budget - 1);
  return [...prompt.slice(0, head), ...prompt.slice(prompt.length - (budget - head))];
}

/**
 * The full sequence of one example, fitted to the context: input length is at most
 * contextLength, so the sequence may hold contextLength+1 tokens. The completion is never cut;
 * a completion that cannot fit is an error the user fixes (longer context or shorter targets).
 */
export function fitExample(ex: LMExample, contextLength: number, keepPromptHead = 0): { seq: number[]; promptLen: number; truncated: boolean } {
  if (ex.completion.length === 0) throw new UserError('training example has an empty completion (nothing to learn)');
  if (ex.completion.length > contextLength) {
    throw new UserError(
      `completion of ${ex.completion.length} tokens does not fit contextLength ${contextLength}; raise contextLength or shorten the target`,
    );
  }
  const budget = contextLength + 1 - ex.completion.length;
  const prompt = truncatePrompt(ex.prompt, budget, keepPromptHead);
  return { seq: [...prompt, ...ex.completion], promptLen: prompt.length, truncated: prompt.length < ex.prompt.length };
}

export function makeBatch(examples: LMExample[], opts: BatchOptions): TokenBatch {
  const padId = opts.padId ?? 0;
  const fitted = examples.map((e) => fitExample(e, opts.contextLength, opts.keepPromptHead ?? 0));
  const longest = Math.max(1, ...fitted.map((f) => f.seq.length - 1));
  const T = opts.padTo === 'context' ? opts.contextLength : longest;
  const B = examples.length;
  const inputs = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T).fill(padId);
  const lossMask = new Float32Array(B * T);
  const attention = new Float32Array(B * T);
  let tokens = 0;
  let truncated = 0;
  fitted.forEach(({ seq, promptLen, truncated: cut }, b) => {
    if (cut) truncated++;
    const n = seq.length - 1;
    for (let j = 0; j < n; j++) {
      inputs[b * T + j] = seq[j];
      targets[b * T + j] = seq[j + 1];
      attention[b * T + j] = 1;
      // target seq[j+1] is a completion token when j+1 >= promptLen
      if (j + 1 >= promptLen) lossMask[b * T + j] = 1;
    }
    tokens += n;
  });
  return { batchSize: B, seqLen: T, inputs, targets, lossMask, attention, tokens, truncated };
}
