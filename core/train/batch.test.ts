import { describe, expect, it } from 'vitest';
import { fitExample, makeBatch, truncatePrompt } from './batch.ts';

describe('makeBatch', () => {
  it('shifts, masks the completion only, and right-pads with 0', () => {
    const b = makeBatch(
      [
        { prompt: [5, 6, 7], completion: [8, 9] },
        { prompt: [4], completion: [3] },
      ],
      { contextLength: 8 },
    );
    expect(b.seqLen).toBe(4);
    expect(Array.from(b.inputs)).toEqual([5, 6, 7, 8, 4, 0, 0, 0]);
    expect(Array.from(b.targets)).toEqual([6, 7, 8, 9, 3, 0, 0, 0]);
    expect(Array.from(b.lossMask)).toEqual([0, 0, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(b.attention)).toEqual([1, 1, 1, 1, 1, 0, 0, 0]);
    expect(b.tokens).toBe(5);
    expect(b.truncated).toBe(0);
  });

  it('pads to the full context when asked', () => {
    const b = makeBatch([{ prompt: [1], completion: [2] }], { contextLength: 6, padTo: 'context', padId: 9 });
    expect(Array.from(b.inputs)).toEqual([1, 9, 9, 9, 9, 9]);
  });

  it('truncates the prompt, never the completion: input fits the context exactly', () => {
    const ex = { prompt: [1, 2, 3, 4, 5, 6, 7, 8], completion: [20, 21, 22] };
    const left = fitExample(ex, 6);
    expect(left.seq).toEqual([5, 6, 7, 8, 20, 21, 22]); // 7 tokens ⇒ 6 inputs
    expect(left.truncated).toBe(true);
    const middle = fitExample(ex, 6, 2);
    expect(middle.seq).toEqual([1, 2, 7, 8, 20, 21, 22]);
    const b = makeBatch([ex], { contextLength: 6, keepPromptHead: 2 });
    expect(b.seqLen).toBe(6);
    expect(Array.from(b.lossMask)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(b.truncated).toBe(1);
  });

  it('rejects completions that cannot fit and empty completions', () => {
    expect(() => fitExample({ prompt: [1], completion: [1, 2, 3, 4, 5] }, 4)).toThrow(/completion of 5 tokens does not fit contextLength 4/);
    expect(() => fitExample({ prompt: [1], completion: [] }, 4)).toThrow(/empty completion/);
  });

  it('truncatePrompt keeps head and tail', () => {
    expect(truncatePrompt([1, 2, 3, 4, 5], 3, 1)).toEqual([1, 4, 5]);
    expect(truncatePrompt([1, 2, 3, 4, 5], 3)).toEqual([3, 4, 5]);
    expect(truncatePrompt([1, 2], 3, 1)).toEqual([1, 2]);
    expect(truncatePrompt([1, 2, 3], 1, 5)).toEqual([3]); // the tail always gets at least one token
  });
});
