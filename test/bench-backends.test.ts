import { describe, expect, it } from 'vitest';
import { benchBackends, benchCommand, FAST_BACKENDS } from '../core/cli/commands/bench.ts';
import { ratiosToTorch, tokenAgreement } from '../bench/run.ts';
import { parseArgs } from 'node:util';

// What `lref bench` runs by default (not how fast: speed is the benchmark's own output).
describe('lref bench backend selection', () => {
  it('runs the fast backends by default, adds cpu only with --all-backends, and takes --backends as given', () => {
    expect(benchBackends(undefined, false)).toEqual(['lref-native', 'wasm']);
    expect(FAST_BACKENDS).not.toContain('cpu');
    expect(benchBackends(undefined, true)).toEqual(['lref-native', 'wasm', 'cpu']);
    expect(benchBackends('cpu, wasm', false)).toEqual(['cpu', 'wasm']);
    expect(() => benchBackends('cpu', true)).toThrow(/--backends and --all-backends/);
    expect(() => benchBackends(' , ', false)).toThrow(/empty/);
  });

  it('parses --all-backends as a flag of the command', () => {
    const args = parseArgs({ args: ['--all-backends', '--presets', 'tiny'], options: benchCommand.options, strict: true });
    expect(args.values['all-backends']).toBe(true);
    expect(args.values.presets).toBe('tiny');
  });

  it('divides batched generation by PyTorch’s per batch size, and counts token agreement by position', () => {
    const f = { trainTokensPerSec: 1, scorePairsPerSec: 1, genTokensPerSec: 1, params: 1 };
    const r = ratiosToTorch({ x: { ...f, genBatchTokensPerSec: { '1': 300, '32': 6000 } } }, { ...f, genBatchTokensPerSec: { '1': 200, '32': 8000 } });
    expect(r!.x.genBatch).toEqual({ '1': 1.5, '32': 0.75 });
    expect(tokenAgreement([[1, 2], [3, 4]], [[1, 2], [3, 5]])).toBe(0.75);
  });
});
