import { describe, expect, it } from 'vitest';
import { ratiosToTorch } from '../bench/run.ts';

describe('bench ratios to the PyTorch reference', () => {
  it('divides each backend figure by PyTorch’s and skips backends that failed', () => {
    const torch = { trainTokensPerSec: 10_000, scorePairsPerSec: 400, genTokensPerSec: 2_000, params: 1 };
    const r = ratiosToTorch(
      {
        'lref-native': { trainTokensPerSec: 12_500, scorePairsPerSec: 500, genTokensPerSec: 1_000, params: 1 },
        wasm: { error: 'not available' },
      },
      torch,
    );
    expect(r).toEqual({ 'lref-native': { train: 1.25, score: 1.25, gen: 0.5 } });
    expect(ratiosToTorch({}, undefined)).toBeUndefined();
  });
});
