import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { NATIVE_BACKEND, nativeBackendStatus } from '../native-backend.ts';
import { KVCache } from '../gpt.ts';
import { importHF, loadHFModel } from './load.ts';
import { HFTokenizer } from './tokenizer.ts';
import { gradeTokenIds } from '../../stages/hf-relevance.ts';
import { getScheme } from '../../data/labels.ts';
import { halfToFloat } from './safetensors.ts';

// Tiny random checkpoints in Hugging Face layout, written at test time by testdata/hf_ref.py
// (PyTorch from Debian's python3-torch, safetensors written by hand), and that script's own
// forward pass as the reference our logits must match within 1e-4.
const PY = process.env.LREF_PYTHON ?? '/usr/bin/python3';
const REF = join(import.meta.dirname, 'testdata', 'hf_ref.py');
const haveTorch = spawnSync(PY, ['-c', 'import torch, regex'], { encoding: 'utf8' }).status === 0;
if (!haveTorch) console.warn('HF import tests skipped: no PyTorch/regex (apt-get install -y python3-torch python3-regex libopenblas0-pthread)');
const native = nativeBackendStatus().registered;

let root: string;
const py = (...args: string[]) => execFileSync(PY, [REF, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const refCache = new Map<string, number[][]>();
/** The reference's logits [T][V] (memoised: each call starts Python and imports torch, ~4 s). */
function refLogits(dir: string, ids: number[]): number[][] {
  const key = `${dir}|${ids}`;
  if (!refCache.has(key)) refCache.set(key, JSON.parse(py('forward', dir, '--ids', ids.join(','))).logits);
  return refCache.get(key)!;
}

const CASES = {
  gpt2: ['--arch', 'gpt2', '--no-prefix'],
  gpt2_f16: ['--arch', 'gpt2', '--dtype', 'F16', '--seed', '3'],
  llama: ['--arch', 'llama', '--dtype', 'BF16', '--shards', '2', '--attention-bias', '--kv-heads', '2', '--seed', '1'],
  qwen2: ['--arch', 'qwen2', '--kv-heads', '1', '--tie', '--seed', '2', '--extra-vocab', '5'],
} as const;
type Case = keyof typeof CASES;
const dir = (c: Case) => join(root, c);
const IDS = [5, 17, 250, 3, 99, 1, 42, 8, 8, 130, 7];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lref-hf-'));
  if (!haveTorch) return;
  for (const [c, args] of Object.entries(CASES)) py('make', join(root, c), ...args);
}, 300_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function maxAbsDiff(ours: ArrayLike<number>, ref: number[]): number {
  expect(ours.length).toBe(ref.length);
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ours[i] - ref[i]));
  return m;
}

async function ourLogits(d: string, backend: string, ids: number[]): Promise<Float32Array> {
  await tf.setBackend(backend);
  const model = loadHFModel(d);
  try {
    const out = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], 'int32')));
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  } finally {
    model.dispose();
  }
}

describe.skipIf(!haveTorch)('imported HF models match an independent PyTorch forward', () => {
  const backends = ['cpu', ...(native ? [NATIVE_BACKEND] : [])];
  for (const c of Object.keys(CASES) as Case[]) {
    for (const backend of backends) {
      it(`${c} on ${backend}: every position's logits within 1e-4`, async () => {
        const ref = refLogits(dir(c), IDS).flat();
        const ours = await ourLogits(dir(c), backend, IDS);
        const err = maxAbsDiff(ours, ref);
        expect(err).toBeLessThan(1e-4);
        // Not trivially small logits: the check has something to fail on.
        expect(Math.max(...ref.map(Math.abs))).toBeGreaterThan(0.5);
      });
    }
  }

  it('the KV-cached decode gives the full forward\'s last logits (llama, GQA)', async () => {
    await tf.setBackend('cpu');
    const model = loadHFModel(dir('llama'));
    const before = tf.memory().numTensors;
    const cache = new KVCache();
    const step = (ids: number[]) => {
      const x = tf.tensor2d([ids], [1, ids.length], 'int32');
      const out = model.decode(x, cache);
      x.dispose();
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    };
    let cached = step(IDS.slice(0, 6));
    for (const t of IDS.slice(6)) cached = step([t]);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const ref = refLogits(dir('llama'), IDS);
    expect(maxAbsDiff(cached, ref[ref.length - 1])).toBeLessThan(1e-4);
    model.dispose();
  });

  it('import writes a float32 copy that loads to the same logits; a second import to the same folder is refused', async () => {
    const out = join(root, 'imported-llama');
    const rec = importHF(dir('llama'), out);
    expect(rec.spec).toMatchObject({ arch: 'llama', kvHeads: 2, heads: 4, tieEmbeddings: false, qkvBias: true, oBias: true });
    expect(rec.sourceDtypes).toEqual({ BF16: expect.any(Number) });
    const a = await ourLogits(dir('llama'), 'cpu', IDS);
    const b = await ourLogits(out, 'cpu', IDS);
    expect(maxAbsDiff(b, Array.from(a))).toBe(0);
    // and the reference reads our written file the same way
    expect(maxAbsDiff(b, refLogits(out, IDS).flat())).toBeLessThan(1e-4);
    expect(() => importHF(dir('llama'), out)).toThrow(/already exists/);
  });
});

describe.skipIf(!haveTorch)('import errors name what is wrong', () => {
  const edit = (c: Case, name: string, f: (cfg: Record<string, unknown>) => void) => {
    const d = join(root, name);
    py('make', d, ...CASES[c]);
    const file = join(d, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    f(cfg);
    writeFileSync(file, JSON.stringify(cfg));
    return d;
  };
  it('an unsupported architecture', () => {
    const d = edit('gpt2', 'bad-arch', (c) => (c.model_type = 'falcon'));
    expect(() => loadHFModel(d)).toThrow(/model_type "falcon".*not supported/);
  });
  it('a config whose shape disagrees with a tensor', () => {
    const d = edit('qwen2', 'bad-shape', (c) => (c.intermediate_size = 64));
    expect(() => loadHFModel(d)).toThrow(/tensor model\.layers\.0\.mlp\.gate_proj\.weight has shape \[48,32\], config\.json implies \[64,32\]/);
  });
  it('a missing tensor (untied head without lm_head)', () => {
    const d = edit('qwen2', 'no-head', (c) => (c.tie_word_embeddings = false));
    expect(() => loadHFModel(d)).toThrow(/missing tensor lm_head\.weight/);
  });
  it('an unreadable dtype and a config value we cannot honour', () => {
    const d = join(root, 'bad-dtype');
    py('make', d, ...CASES.gpt2);
    const f = join(d, 'model.safetensors');
    const buf = readFileSync(f);
    const n = Number(buf.readBigUInt64LE(0));
    const hdr = buf.subarray(8, 8 + n).toString('utf8').replace('"dtype": "F32"', '"dtype": "I64"');
    writeFileSync(f, Buffer.concat([buf.subarray(0, 8), Buffer.from(hdr), buf.subarray(8 + n)]));
    expect(() => loadHFModel(d)).toThrow(/has dtype I64; readable dtypes are F32, F16, BF16/);
    const r = edit('llama', 'rope-scaling', (c) => (c.rope_scaling = { type: 'llama3', factor: 8 }));
    expect(() => loadHFModel(r)).toThrow(/rope_scaling/);
  });
});

describe('float16 decoding', () => {
  it('normals, subnormals, infinities', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.960464477539063e-8, 15);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.333251953125, 12);
  });
});

const TITLES = [
  'Stainless Steel 12 oz. Insulated Tumbler w/ Lid (2-Pack)',
  '1/2 in. x 10 ft. PVC Pipe Sch. 40 — 3/4" fitting',
  'Café Ñandú espresso 500g, 1.5 kg & 2,5 L',
  'Ägyptische Baumwolle Bettwäsche 200x220 cm',
  '東芝 LED電球 60W形 E26 昼白色',
  '🔥 Deal: 50% off 18V Li-ion drill (2.0Ah) — ½" chuck',
  'Cafe\u0301 combining accent vs Café precomposed',
  'LG 65" 4K UHD Smart TV 65UQ7570PUJ   double  spaces\tand tab',
  "it's the user's 3rd order<|endoftext|>next",
];

describe.skipIf(!haveTorch)('tokenizer ids match the reference byte-level BPE on product titles', () => {
  for (const c of ['gpt2', 'qwen2'] as const) {
    it(`${c}-style tokenizer.json`, () => {
      const tok = HFTokenizer.fromDir(dir(c));
      const ref = JSON.parse(execFileSync(PY, [REF, 'tokenize', dir(c)], { input: JSON.stringify(TITLES), encoding: 'utf8' })) as number[][];
      const ours = TITLES.map((t) => tok.encode(t));
      expect(ours).toEqual(ref);
      // and decoding gives the text back (byte-level BPE is lossless; NFC for the qwen2 style)
      for (let i = 0; i < TITLES.length; i++) expect(tok.decode(ours[i])).toBe(c === 'qwen2' ? TITLES[i].normalize('NFC') : TITLES[i]);
    });
  }
});

describe.skipIf(!haveTorch)('SentencePiece-style tokenizers (Llama-2, Mistral: "▁" spaces, byte_fallback) match the reference', () => {
  // The titles above, the GPT-2 end token swapped for this family's </s> (a section after an added token gets no "▁" under Metaspace "first").
  const texts = TITLES.map((t) => t.replace('<|endoftext|>', '</s>'));
  for (const style of ['llama2', 'metaspace'] as const) {
    it(`${style === 'llama2' ? 'Prepend + Replace normalizer (Llama-2)' : 'Metaspace pre-tokenizer, prepend_scheme first'}: ids, bytes, grades`, () => {
      const d = join(root, `sp-${style}`);
      execFileSync(PY, [REF, 'sp-tokenizer', d, '--style', style]);
      const tok = HFTokenizer.fromDir(d);
      const ref = JSON.parse(execFileSync(PY, [REF, 'tokenize', d], { input: JSON.stringify(texts), encoding: 'utf8' })) as number[][];
      // tokenizer_config.json says add_bos_token, as Llama-2's and Mistral's do: <s> (id 1) in front
      const ours = texts.map((t) => tok.encode(t));
      expect(ours).toEqual(ref.map((ids) => [1, ...ids]));
      // characters outside the vocabulary (½, CJK, the combining accent) went through byte fallback: ids 3–258 are <0x00>–<0xFF>
      expect(ref.flat().filter((id) => id >= 3 && id < 259).length).toBeGreaterThan(10);
      // decoding gives the text back (the title with </s> in it: not its leading-space quirk)
      for (let i = 0; i < texts.length - 1; i++) expect(tok.decode(ours[i].slice(1))).toBe(texts[i]);
      // each grade is read as a token that starts its name, one per grade (a lone "▁" would make them clash)
      const scheme = getScheme('lref5');
      const grades = gradeTokenIds(tok, scheme);
      expect(new Set(grades).size).toBe(scheme.labels.length);
      grades.forEach((id, i) => {
        const text = tok.decode([id]).trim();
        expect(text.length).toBeGreaterThan(0);
        expect(scheme.labels[i].startsWith(text)).toBe(true);
      });
    });
  }
});

describe.skipIf(!haveTorch)('lref model import / inspect', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { cli: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), errRaw: () => {}, isTTY: false }, out, err };
  };
  it('inspect --json on the HF folder and on its import: ids, last_logits (the reference\'s), greedy_ids', async () => {
    const { main } = await import('../../cli/main.ts');
    const out = join(root, 'cli-gpt2');
    const a = io();
    expect(await main(['model', 'import', dir('gpt2'), '--out', out], a.cli)).toBe(0);
    expect(a.out[0]).toMatch(/^gpt2 · 0\.\dM parameters · 2 layers × 32/);
    const text = 'Café 12 oz. tumbler';
    const results = [];
    for (const d of [dir('gpt2'), out]) {
      const b = io();
      expect(await main(['model', 'inspect', d, '--text', text, '--json', '--backend', 'cpu'], b.cli)).toBe(0);
      results.push(JSON.parse(b.out[0]) as { ids: number[]; last_logits: number[]; greedy_ids: number[]; arch: string });
    }
    expect(results[0].arch).toBe('gpt2');
    expect(results[1].ids).toEqual(results[0].ids);
    expect(results[1].greedy_ids).toEqual(results[0].greedy_ids);
    expect(results[0].greedy_ids).toHaveLength(8);
    const ref = JSON.parse(execFileSync(PY, [REF, 'tokenize', dir('gpt2')], { input: JSON.stringify([text]), encoding: 'utf8' }))[0];
    expect(results[0].ids).toEqual(ref);
    const logits = refLogits(dir('gpt2'), ref);
    expect(maxAbsDiff(results[1].last_logits, logits[logits.length - 1])).toBeLessThan(1e-4);
    const c = io();
    await expect(main(['model', 'import', dir('gpt2'), '--out', out], c.cli)).resolves.not.toBe(0);
  });
});
