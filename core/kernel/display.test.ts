import { describe, expect, it } from 'vitest';
import { bundleOf, confusionBundle, htmlBundle, imageBundle, MIME, pairsBundle, progressBundle, Rich, tableBundle, vegaliteBundle } from './display.ts';

describe('MIME bundles', () => {
  it('table: lref table JSON plus an aligned text table', () => {
    const b = tableBundle([{ variant: 'sft', macro_f1: 0.5 }, { variant: 'sft+cot', macro_f1: 0.61234, n: 20 }]);
    expect(b[MIME.table]).toEqual({ columns: ['variant', 'macro_f1', 'n'], rows: [['sft', 0.5, undefined], ['sft+cot', 0.61234, 20]] });
    expect(b['text/plain']).toBe(['variant  macro_f1   n', '-------  --------  --', 'sft        0.5000', 'sft+cot    0.6123  20'].join('\n'));
  });

  it('table text is cut after maxRows and says how many rows there are', () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ i }));
    expect((tableBundle(rows, { maxRows: 2 })['text/plain'] as string).split('\n').slice(-1)[0]).toBe('… 3 more rows (5 in all)');
  });

  it('confusion: labels × labels with gold rows', () => {
    const b = confusionBundle([[5, 1], [2, 7]], ['Exact', 'Irrelevant']);
    expect(b[MIME.confusion]).toEqual({ labels: ['Exact', 'Irrelevant'], matrix: [[5, 1], [2, 7]] });
    expect(b['text/plain']).toBe(['gold \\ pred  Exact  Irrelevant', '-----------  -----  ----------', 'Exact            5           1', 'Irrelevant       2           7'].join('\n'));
    expect(() => confusionBundle([[1, 2]], ['a', 'b'])).toThrow(/2×2/);
  });

  it('pairs: one column per variant', () => {
    const b = pairsBundle([{ query: 'red shoe', title: 'Red Shoe', gold: 'Exact', preds: { sft: 'Exact', dpo: 'Significant' } }]);
    expect((b[MIME.pairs] as { variants: string[] }).variants).toEqual(['sft', 'dpo']);
    expect((b['text/plain'] as string).split('\n')[2]).toBe('red shoe  Red Shoe  Exact  Exact  Significant');
  });

  it('vega-lite, html, image and progress', () => {
    const spec = { mark: 'bar', title: 'F1', data: { values: [{ a: 1 }, { a: 2 }] } };
    expect(vegaliteBundle(spec)).toEqual({ [MIME.vegalite]: spec, 'text/plain': '<Vega-Lite bar chart "F1", 2 data points>' });
    expect(htmlBundle('<b>bold</b> <i>it</i>')).toEqual({ 'text/html': '<b>bold</b> <i>it</i>', 'text/plain': 'bold it' });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1]);
    expect(imageBundle(png)['image/png']).toBe('iVBORw0KGgoAAQ==');
    expect(() => imageBundle(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a PNG/);
    expect(progressBundle(6, 24, 'train', { loss: 0.25 })['text/plain']).toBe('train [######..................] 6/24  loss 0.2500');
  });

  it('plain values: text/plain always, JSON for plain data, Rich as given', () => {
    expect(bundleOf({ a: [1, 2] })).toEqual({ 'text/plain': '{ a: [ 1, 2 ] }', 'application/json': { a: [1, 2] } });
    expect(bundleOf(new Map([[1, 2]]))).toEqual({ 'text/plain': 'Map(1) { 1 => 2 }' });
    expect(bundleOf('hi')).toEqual({ 'text/plain': 'hi' });
    expect(bundleOf(new Rich({ 'text/html': '<p/>' }))).toEqual({ 'text/html': '<p/>' });
  });
});
