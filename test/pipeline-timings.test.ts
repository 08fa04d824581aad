import { describe, expect, it } from 'vitest';
import { formatTimings } from '../core/cli/commands/pipeline.ts';

describe('lref pipeline time per stage', () => {
  it('lists every timed stage in run order with its share of the total, the total last', () => {
    const lines = formatTimings({ data: 1, sft_all: 90, 'eval/+cot_ee': 300, total: 600 });
    expect(lines[0]).toBe('time per stage:');
    expect(lines.slice(1).map((l) => l.split(/\s+/))).toEqual([
      ['data', '1s', '0.2%'],
      ['sft_all', '1m30s', '15.0%'],
      ['eval/+cot_ee', '5m00s', '50.0%'],
      ['total', '10m00s', '100.0%'],
    ]);
  });
});
