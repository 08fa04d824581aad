import * as tf from '@tensorflow/tfjs-core';
import type { Command } from '../command.ts';
import { optBool, optString } from '../args.ts';
import { UserError } from '../../util/errors.ts';
import { initBackend } from '../../model/backend.ts';
import { importHF, loadHFModel, openHF } from '../../model/hf/load.ts';
import { specParamCount } from '../../model/hf/config.ts';
import { HFTokenizer } from '../../model/hf/tokenizer.ts';
import { KVCache } from '../../model/gpt.ts';
import { exportHFJudge, loadHFAdapter } from '../../stages/hf-relevance.ts';

export const modelImportCommand: Command = {
  name: 'model import',
  summary: 'Import a downloaded Hugging Face model folder (GPT-2, Llama, Qwen2, SmolLM) for the workbench',
  usage: 'model import HF_DIR --out MODEL_DIR [--json]',
  examples: ['lref model import ~/models/SmolLM2-135M --out models/smollm2-135m', 'lref model import ~/models/gpt2 --out models/gpt2'],
  options: { out: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: {
    out: 'the new folder: config.json, model.safetensors (float32), tokenizer files, lref-hf.json',
    json: 'print one JSON object',
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError(`expected one HF_DIR\n\nUsage: lref ${this.usage}`);
    const out = optString(args, 'out');
    if (!out) throw new UserError(`--out MODEL_DIR is required\n\nUsage: lref ${this.usage}`);
    const t0 = performance.now();
    const rec = importHF(args.positionals[0], out);
    const secs = (performance.now() - t0) / 1000;
    const params = specParamCount(rec.spec);
    if (optBool(args, 'json')) io.out(JSON.stringify({ out, spec: rec.spec, params, source_dtypes: rec.sourceDtypes, seconds: secs }));
    else
      io.out(
        `${rec.spec.modelType} · ${(params / 1e6).toFixed(1)}M parameters · ${rec.spec.layers} layers × ${rec.spec.hidden} · ` +
          `${rec.spec.heads} heads / ${rec.spec.kvHeads} kv · from ${Object.entries(rec.sourceDtypes).map(([d, n]) => `${n} ${d}`).join(', ')} → ${out} (${secs.toFixed(1)}s)`,
      );
    return 0;
  },
};

export const modelInspectCommand: Command = {
  name: 'model inspect',
  summary: 'Describe a Hugging Face or imported model; with --text: its token ids, last logits and greedy continuation',
  usage: 'model inspect DIR [--text TEXT] [--backend B] [--json]',
  examples: ['lref model inspect models/smollm2-135m --text "cordless drill 20V" --json'],
  options: { text: { type: 'string' }, backend: { type: 'string' }, json: { type: 'boolean' } },
  optionHelp: {
    text: 'encode this text (no special tokens unless the tokenizer config asks) and run the model on it',
    backend: 'pin a TF.js backend (default: the fastest available; also LREF_BACKEND)',
    json: 'print one JSON object with keys arch, params, ids, last_logits, greedy_ids',
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError(`expected one DIR\n\nUsage: lref ${this.usage}`);
    const dir = args.positionals[0];
    const { spec } = openHF(dir);
    const params = specParamCount(spec);
    const text = optString(args, 'text');
    const info: Record<string, unknown> = { arch: spec.modelType, params, spec };
    if (text !== undefined) {
      const backend = await initBackend(optString(args, 'backend'));
      const tok = HFTokenizer.fromDir(dir);
      const ids = tok.encode(text);
      if (ids.length === 0) throw new UserError('--text encodes to no tokens');
      const model = loadHFModel(dir, { contextLength: Math.min(spec.maxPositions, ids.length + 8) });
      const cache = new KVCache();
      try {
        // Greedy, 8 tokens, through the KV cache: the last logits are those of the prompt's last position.
        let x = tf.tensor2d([ids], [1, ids.length], 'int32');
        let logits = model.decode(x, cache);
        const last = Array.from(logits.dataSync());
        const greedy: number[] = [];
        for (let i = 0; i < 8; i++) {
          const row = logits.dataSync();
          let best = 0;
          for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
          greedy.push(best);
          tf.dispose([x, logits]);
          if (i === 7) break;
          x = tf.tensor2d([[best]], [1, 1], 'int32');
          logits = model.decode(x, cache);
        }
        Object.assign(info, { backend, ids, last_logits: last, greedy_ids: greedy, greedy_text: tok.decode(greedy) });
      } finally {
        cache.dispose();
        model.dispose();
      }
    }
    if (optBool(args, 'json')) io.out(JSON.stringify(info));
    else {
      io.out(`${spec.modelType} (${spec.arch} family) · ${(params / 1e6).toFixed(2)}M parameters · ${spec.layers} layers × ${spec.hidden} · heads ${spec.heads} / kv ${spec.kvHeads} · vocab ${spec.vocabSize} · ${spec.tieEmbeddings ? 'tied' : 'untied'} head`);
      if (text !== undefined) {
        const last = info.last_logits as number[];
        const top = last.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, 5);
        io.out(`ids ${JSON.stringify(info.ids)}`);
        io.out(`top next tokens ${top.map(([v, i]) => `${i}:${v.toFixed(4)}`).join(' ')}`);
        io.out(`greedy ${JSON.stringify(info.greedy_ids)} ${JSON.stringify(info.greedy_text)}`);
      }
    }
    return 0;
  },
};

export const modelExportCommand: Command = {
  name: 'model export',
  summary: 'Merge LoRA adapters (from `lref train --model`) into their base and write a folder `lref serve` can serve',
  usage: 'model export ADAPTER_DIR --out DIR [--base MODEL_DIR]',
  examples: ['lref model export /tmp/lora --out /tmp/judge && lref serve /tmp/judge --port 8000'],
  options: { out: { type: 'string' }, base: { type: 'string' }, backend: { type: 'string' } },
  optionHelp: {
    out: 'the new folder: merged model.safetensors, config and tokenizer files, lref-judge.json',
    base: 'the base model folder (default: the path adapter_config.json names)',
    backend: 'pin a TF.js backend (default: the fastest available)',
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError(`expected one ADAPTER_DIR\n\nUsage: lref ${this.usage}`);
    const out = optString(args, 'out');
    if (!out) throw new UserError(`--out DIR is required\n\nUsage: lref ${this.usage}`);
    await initBackend(optString(args, 'backend'));
    const rm = loadHFAdapter(args.positionals[0], optString(args, 'base'));
    try {
      exportHFJudge(rm, out);
    } finally {
      rm.model.dispose();
    }
    io.out(`merged ${rm.model.loraConfig()?.targets.join(', ')} adapters into ${rm.model.spec.modelType} → ${out}`);
    return 0;
  },
};
