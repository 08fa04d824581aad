// Feeds one native addon entry point bad arguments and prints, per case, whether it threw a JS
// error (one JSON object per line). Run in a child process by native-safety.test.ts, so a crash
// (SIGFPE, SIGSEGV, SIGABRT) fails that test instead of killing the test runner.
//   node native-safety.probe.mjs ADDON_PATH ENTRY_POINT
import { createRequire } from 'node:module';

const [addonPath, entry] = process.argv.slice(2);
const addon = createRequire(import.meta.url)(addonPath);

const F = (n, v = 0.5) => new Float32Array(n).fill(v);
const I = (...xs) => Int32Array.from(xs);

// A valid call per entry point. Kinds: n = size (integer >= 0), r = real number, f = Float32Array,
// F = the Float32Array whose length sets n (any length is valid), i = Int32Array. out = outputs.
const SPECS = {
  gemm: { kinds: 'nnnnnnnnfff', out: [10], args: () => [2, 1, 2, 3, 4, 5, 0, 0, F(15), F(40), F(24)] },
  stridedGemm: {
    kinds: 'nnnnnnnfnnnfnnnfnnn', out: [15],
    args: () => [2, 2, 3, 4, 5, 0, 0, F(60), 30, 15, 5, F(80), 40, 20, 4, F(48), 24, 12, 4],
  },
  softmaxCausal: { kinds: 'ffnnnn', out: [1], args: () => [F(12), F(12), 4, 3, 2, 0] },
  binary: { kinds: 'nifff', out: [4], args: () => [0, I(2, 3, 4, 4, 1, 0, 1), F(12), F(4), F(12)] },
  unary: { kinds: 'nFf', out: [2], args: () => [8, F(6), F(6)] },
  reduce: { kinds: 'nffnnn', out: [2], args: () => [0, F(24), F(8), 2, 3, 4] },
  transpose: { kinds: 'ffii', out: [1], args: () => [F(24), F(24), I(2, 3, 4), I(2, 0, 1)] },
  softmax: { kinds: 'ffnn', out: [1], args: () => [F(12), F(12), 4, 3] },
  softmaxGrad: { kinds: 'fffnn', out: [2], args: () => [F(12), F(12), F(12), 4, 3] },
  layerNorm: { kinds: 'ffffffnnr', out: [3, 4, 5], args: () => [F(12), F(3), F(3), F(12), F(4), F(4), 4, 3, 1e-5] },
  layerNormGrad: {
    kinds: 'ffffffffnn', out: [5, 6, 7],
    args: () => [F(12), F(3), F(4), F(4), F(12), F(12), F(3), F(3), 4, 3],
  },
  geluGrad: { kinds: 'Fff', out: [2], args: () => [F(6), F(6), F(6)] },
  softmaxXent: { kinds: 'fiffnn', out: [2, 3], args: () => [F(12), I(0, 1, 2, -1), F(12), F(4), 4, 3] },
  softmaxXentGrad: { kinds: 'fiffnn', out: [3], args: () => [F(12), I(0, 1, 2, -1), F(4), F(12), 4, 3] },
  gatherRows: { kinds: 'fifnnn', out: [2], args: () => [F(12), I(0, 3, 1), F(9), 3, 3, 4] },
  scatterAddRows: { kinds: 'fifnnn', out: [2], args: () => [F(9), I(0, 3, 1), F(12), 3, 3, 4] },
  adam: {
    kinds: 'Ffffrrrrrrrr', out: [0, 1, 2],
    args: () => [F(6), F(6), F(6), F(6), 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001, 1],
  },
  sumSquares: { kinds: 'F', out: [], args: () => [F(6)] },
  dropout: { kinds: 'Fffrrrnr', out: [1, 2], args: () => [F(6), F(6), F(6), 0.25, 0.5, 0.75, 3, 0.9] },
  setThreads: { kinds: 'n', out: [], args: () => [2] },
};

// Cases beyond the generic mutations: each one must throw.
const SPECIAL = {
  gemm: [
    ['flag 2', (a) => { a[6] = 2; }],
    ['M·N overflows', (a) => { a[3] = 2 ** 40; a[4] = 2 ** 40; }],
    ['batch·M·N overflows', (a) => { a[0] = 2 ** 30; a[3] = 2 ** 20; a[4] = 2 ** 20; }],
    ['batchA 0 with batch 2', (a) => { a[1] = 0; }],
  ],
  stridedGemm: [
    ['reach overflows', (a) => { a[0] = 4; a[8] = 2 ** 52; }],
    ['lda < K', (a) => { a[10] = 4; }],
    ['ldc < N', (a) => { a[18] = 3; }],
  ],
  softmaxCausal: [['T = 0', (a) => { a[4] = 0; }]],
  binary: [
    ['unknown op', (a) => { a[0] = 99; }],
    ['negative stride', (a) => { a[1] = I(2, 3, 4, -4, 1, 0, 1); }],
    ['negative stride, long output', (a) => { a[1] = I(1, 12, -1, 1); }],
    ['negative shape', (a) => { a[1] = I(2, -3, 4, 4, 1, 0, 1); }],
    ['rank 9', (a) => { a[1] = I(9, ...Array(27).fill(1)); }],
    ['rank 0', (a) => { a[1] = I(0); }],
    ['meta too short', (a) => { a[1] = I(2, 3, 4); }],
    ['shape product overflows', (a) => { a[1] = I(3, 2 ** 30, 2 ** 30, 2 ** 30, 0, 0, 0, 0, 0, 0); }],
    ['a walks past its end', (a) => { a[1] = I(2, 3, 4, 5, 1, 0, 1); }],
  ],
  unary: [['unknown op', (a) => { a[0] = 15; }], ['op -1', (a) => { a[0] = -1; }]],
  reduce: [['r = 0', (a) => { a[4] = 0; }], ['unknown op', (a) => { a[0] = 4; }],
    ['sizes overflow', (a) => { a[3] = 2 ** 30; a[4] = 2 ** 30; a[5] = 2 ** 30; }]],
  transpose: [
    ['repeated axis', (a) => { a[3] = I(0, 0, 2); }],
    ['axis out of range', (a) => { a[3] = I(0, 1, 3); }],
    ['negative axis', (a) => { a[3] = I(-1, 0, 1); }],
    ['perm shorter than shape', (a) => { a[3] = I(0, 1); }],
    ['perm longer than shape', (a) => { a[3] = I(0, 1, 2, 3); }],
    ['negative dim', (a) => { a[2] = I(-2, 3, 4); }],
    ['rank 9', (a) => { a[2] = I(...Array(9).fill(1)); a[3] = I(...Array(9).keys()); }],
    ['size overflows', (a) => { a[2] = I(2 ** 30, 2 ** 30, 2 ** 30); }],
  ],
  layerNorm: [['eps NaN', (a) => { a[8] = NaN; }]],
  layerNormGrad: [['rows·cols overflows', (a) => { a[8] = 2 ** 40; a[9] = 2 ** 40; }]],
  gatherRows: [['table size overflows', (a) => { a[4] = 2 ** 40; a[5] = 2 ** 40; }]],
  scatterAddRows: [['out size overflows', (a) => { a[4] = 2 ** 40; a[5] = 2 ** 40; }]],
  adam: [['step 0 (bias1 = 0)', (a) => { a[9] = 0; a[10] = 0; }], ['bias negative', (a) => { a[9] = -0.1; }]],
  dropout: [['keep 0', (a) => { a[7] = 0; }], ['keep 1.5', (a) => { a[7] = 1.5; }], ['s0 = 1', (a) => { a[3] = 1; }],
    ['s1 < 0', (a) => { a[4] = -0.25; }], ['c = 2^32', (a) => { a[6] = 2 ** 32; }]],
  setThreads: [['0 threads', (a) => { a[0] = 0; }], ['257 threads', (a) => { a[0] = 257; }]],
};

// Legal edge cases: each must run without throwing and leave the checked result.
const zeros = (a) => a.every((v) => v === 0);
const EDGE = {
  gemm: [
    ['K = 0 writes zeros', () => [1, 1, 1, 2, 3, 0, 0, 0, F(0), F(0), F(6, 7)], (a) => zeros(a[10])],
    ['empty batch', () => [0, 0, 0, 2, 3, 4, 0, 0, F(0), F(0), F(0)], () => true],
  ],
  stridedGemm: [['K = 0 writes zeros', () => [1, 2, 2, 2, 0, 0, 0, F(0), 0, 0, 0, F(0), 0, 0, 2, F(8, 7), 8, 4, 2],
    (a) => zeros(a[15])]],
  softmaxXent: [['no columns: loss 0 per row', () => [F(0), I(0, 1, 2, 3), F(0), F(4, 7), 4, 0], (a) => zeros(a[3])]],
  softmaxXentGrad: [['no columns', () => [F(0), I(0, 1, 2, 3), F(4), F(0), 4, 0], () => true]],
  softmaxGrad: [['no columns', () => [F(0), F(0), F(0), 4, 0], () => true]],
  softmax: [['in place', () => { const x = F(6, 1); return [x, x, 2, 3]; }, (a) => a[0].every((v) => Math.abs(v - 1 / 3) < 1e-6)]],
  layerNormGrad: [['no rows: zero dgamma and dbeta', () => [F(0), F(3), F(0), F(0), F(0), F(0), F(3, 7), F(3, 7), 0, 3],
    (a) => zeros(a[6]) && zeros(a[7])]],
  unary: [['in place', () => { const x = F(6, 2); return [5, x, x]; }, (a) => a[1].every((v) => v === -2)]],
  binary: [['in place', () => { const x = F(4, 1); return [0, I(1, 4, 1, 1), x, F(4, 2), x]; }, (a) => a[2].every((v) => v === 3)]],
  transpose: [['rank 0', () => [F(1, 5), F(1), I(), I()], (a) => a[1][0] === 5]],
  reduce: [['no outer rows', () => [0, F(0), F(0), 0, 3, 4], () => true]],
};

const cases = [];
const spec = SPECS[entry];
if (!spec) throw new Error(`no spec for ${entry}`);
cases.push(['no arguments', () => []]);
[...spec.kinds].forEach((kind, i) => {
  const with_ = (label, v) => cases.push([`arg ${i} ${label}`, () => { const a = spec.args(); a[i] = v; return a; }]);
  if (kind === 'n' || kind === 'r') {
    for (const [label, v] of [['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity], ['a string', '3'],
      ['undefined', undefined], ['a BigInt', 3n], ['an object', {}]]) with_(label, v);
  }
  if (kind === 'n') for (const [label, v] of [['-1', -1], ['0.5', 0.5], ['2^53', 2 ** 53], ['1e300', 1e300]]) with_(label, v);
  if (kind === 'f' || kind === 'F' || kind === 'i') {
    for (const [label, v] of [['null', null], ['a plain array', [1, 2, 3]], ['a Float64Array', new Float64Array(64)],
      ['an ArrayBuffer', new ArrayBuffer(256)], ['a DataView', new DataView(new ArrayBuffer(256))],
      ['the other typed array', kind === 'i' ? new Float32Array(64) : new Int32Array(64)]]) with_(label, v);
  }
  if (kind === 'f' || kind === 'i') {
    cases.push([`arg ${i} one element short`, () => {
      const a = spec.args();
      a[i] = a[i].subarray(0, a[i].length - 1);
      return a;
    }]);
  }
});
// Every output partly overlapping every other array argument (one element apart in one buffer).
for (const o of spec.out) {
  [...spec.kinds].forEach((kind, k) => {
    if (k === o || kind === 'n' || kind === 'r') return;
    cases.push([`output ${o} overlaps arg ${k}`, () => {
      const a = spec.args();
      const buf = new ArrayBuffer(4 * Math.max(a[o].length, 1 + a[k].length));
      const out = new Float32Array(buf, 0, a[o].length);
      const other = new a[k].constructor(buf, 4, a[k].length);
      other.set(a[k]);
      a[o] = out;
      a[k] = other;
      return a;
    }]);
  });
}
for (const [label, mutate] of SPECIAL[entry] ?? []) cases.push([label, () => { const a = spec.args(); mutate(a); return a; }]);

// The valid call itself must work, or every case above would "throw" for the wrong reason.
addon[entry](...spec.args());
for (const [label, make] of cases) {
  let threw = false;
  let message = '';
  try {
    addon[entry](...make());
  } catch (e) {
    threw = e instanceof Error;
    message = e instanceof Error ? e.message : String(e);
  }
  console.log(JSON.stringify({ case: label, threw, message }));
}
for (const [label, make, check] of EDGE[entry] ?? []) {
  const args = make();
  let message = '';
  let ok = false;
  try {
    addon[entry](...args);
    ok = check(args);
    if (!ok) message = 'wrong result';
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  console.log(JSON.stringify({ case: label, edge: true, ok, message }));
}
addon.setThreads(2);
