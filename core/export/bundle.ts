import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { canMap, getScheme, mapLabel } from '../data/labels.ts';
import { MetricsRecord } from '../eval/metrics.ts';
import { CheckpointManifest } from '../model/checkpoint.ts';
import { DataSummary, RUN_FILES, RunConfig } from '../runs/schema.ts';
import { readJsonFile, readRun, writeJsonFile } from '../runs/store.ts';
import { ModelCard } from '../stages/relevance-model.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { inputError, UserError } from '../util/errors.ts';
import { metricsCard } from './card.ts';
import { buildDirAtomic } from './out-dir.ts';

/**
 * `lref export RUN --variant V --to bundle`: one variant of a run as a self-contained, versioned
 * folder that `lref serve` loads and a reviewer can read:
 *
 *   bundle.json     what it is: run id, variant, scheme, created, code version (BundleInfo)
 *   config.json     the run's validated config
 *   template.json   the prompt template the model is asked with
 *   labels.json     the label scheme (best → worst, meanings) and its mapping onto LREF-5
 *   model/          checkpoint.json, weights.bin, tokenizer.json, lref-model.json (no optimizer state)
 *   METRICS.md      the metrics card: the run's ablation table, the data, seed, backend, code version
 *   manifest.json   sha256 and size of every other file; `lref export --verify DIR` checks it
 */

export const BUNDLE_FORMAT = 'lref-bundle';
export const BUNDLE_FILES = {
  info: 'bundle.json',
  config: 'config.json',
  template: 'template.json',
  labels: 'labels.json',
  model: 'model',
  card: 'METRICS.md',
  manifest: 'manifest.json',
} as const;

export const BundleInfo = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    version: z.literal(1),
    /** "<run id>/<variant>": the model name `lref serve` lists */
    name: z.string().min(1),
    run_id: z.string().min(1),
    variant: z.string().min(1),
    created: z.iso.datetime(),
    scheme: z.string().min(1),
    seed: z.number().int(),
    backend: z.string().min(1),
    code_version: z.string().min(1),
    data: DataSummary,
    /** the variant's own metrics record from the run (test split) */
    metrics: MetricsRecord,
  })
  .strict();
export type BundleInfo = z.infer<typeof BundleInfo>;

export const BundleLabels = z
  .object({
    scheme: z.string().min(1),
    name: z.string(),
    /** best → worst */
    labels: z.array(z.string().min(1)).min(2),
    meaning: z.record(z.string(), z.string()),
    /** label → LREF-5 label, when the scheme has a documented mapping (GRADING-RULES.md §Mapping) */
    to_lref5: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type BundleLabels = z.infer<typeof BundleLabels>;

export const FileEntry = z.object({ path: z.string().min(1), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export const BundleManifest = z
  .object({ format: z.literal(BUNDLE_FORMAT), version: z.literal(1), files: z.array(FileEntry).min(1) })
  .strict();
export type BundleManifest = z.infer<typeof BundleManifest>;

/** The checkpoint files a bundle carries: optimizer.bin is training state, not needed to serve. */
const MODEL_FILES = ['checkpoint.json', 'weights.bin', 'tokenizer.json', 'lref-model.json'] as const;

export interface ExportBundleOptions {
  variant: string;
  out: string;
  now?: Date;
}

export async function exportBundle(runDir: string, opts: ExportBundleOptions): Promise<{ dir: string; info: BundleInfo; manifest: BundleManifest }> {
  const run = readRun(runDir);
  const { variant } = opts;
  const servable = run.run.variants.filter((v) => existsSync(join(runDir, RUN_FILES.checkpoints, v, 'lref-model.json')));
  if (!run.run.variants.includes(variant)) {
    throw new UserError(`${runDir}: no variant "${variant}"; the run has ${run.run.variants.join(', ')}`);
  }
  const ckpt = join(runDir, RUN_FILES.checkpoints, variant);
  if (existsSync(join(ckpt, 'adapter_config.json'))) {
    // A run on an imported model (hf-pipeline.ts): its variants are LoRA adapters, which a bundle (built-in decoder) cannot hold.
    throw new UserError(
      `${runDir}: variant "${variant}" is LoRA adapters on an imported Hugging Face model; --to bundle holds built-in decoders only. ` +
        `Merge it with \`lref model export ${ckpt} --out DIR\` and serve that with \`lref serve --model DIR\``,
    );
  }
  if (!servable.includes(variant)) {
    throw new UserError(`${runDir}: variant "${variant}" has no decoder checkpoint to serve (lexical, cross_encoder and imported variants have none); servable: ${servable.join(', ') || 'none'}`);
  }
  const card = readJsonFile(join(ckpt, 'lref-model.json'), ModelCard);
  const checkpoint = readJsonFile(join(ckpt, 'checkpoint.json'), CheckpointManifest);
  if (!checkpoint.tokenizer) throw inputError(join(ckpt, 'checkpoint.json'), undefined, 'the checkpoint has no tokenizer.json');
  const record = run.metrics.variants.find((m) => m.name === variant);
  if (!record) throw inputError(join(runDir, RUN_FILES.metrics), undefined, `no metrics record for variant "${variant}"`);
  const scheme = getScheme(card.scheme);

  const info: BundleInfo = {
    format: BUNDLE_FORMAT,
    version: 1,
    name: `${run.run.id}/${variant}`,
    run_id: run.run.id,
    variant,
    created: (opts.now ?? new Date()).toISOString(),
    scheme: scheme.id,
    seed: run.run.seed,
    backend: run.run.backend,
    code_version: run.run.code_version,
    data: run.run.data,
    metrics: record,
  };
  const labels: BundleLabels = {
    scheme: scheme.id,
    name: scheme.name,
    labels: [...scheme.labels],
    meaning: { ...scheme.meaning },
    ...(canMap(scheme.id, 'lref5') ? { to_lref5: Object.fromEntries(scheme.labels.map((l) => [l, mapLabel(scheme.id, 'lref5', l)])) } : {}),
  };

  return buildDirAtomic(opts.out, (dir) => {
    writeJsonFile(join(dir, BUNDLE_FILES.info), BundleInfo, info);
    writeJsonFile(join(dir, BUNDLE_FILES.config), RunConfig, run.run.config);
    writeFileAtomic(join(dir, BUNDLE_FILES.template), JSON.stringify(card.template, null, 1) + '\n');
    writeJsonFile(join(dir, BUNDLE_FILES.labels), BundleLabels, labels);
    const modelDir = join(dir, BUNDLE_FILES.model);
    for (const f of MODEL_FILES) {
      if (f === 'checkpoint.json') {
        const { optimizer: _o, ...rest } = checkpoint; // the optimizer.bin it names stays behind
        writeJsonFile(join(modelDir, f), CheckpointManifest, rest);
      } else copyFileSync(join(ckpt, f), join(modelDir, f));
    }
    writeFileAtomic(join(dir, BUNDLE_FILES.card), metricsCard(run, info));
    const manifest: BundleManifest = { format: BUNDLE_FORMAT, version: 1, files: listFiles(dir).map((p) => fileEntry(dir, p)) };
    writeJsonFile(join(dir, BUNDLE_FILES.manifest), BundleManifest, manifest);
    return { dir: opts.out, info, manifest };
  });
}

/** Every file under `dir` (relative, '/'-separated, sorted), the manifest itself left out. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.filter((p) => p !== BUNDLE_FILES.manifest).sort();
}

function fileEntry(dir: string, path: string): z.infer<typeof FileEntry> {
  const data = readFileSync(join(dir, path));
  return { path, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
}

/** Checks a bundle against its manifest: every listed file present with its size and hash, nothing unlisted. */
export function verifyBundle(dir: string): { ok: boolean; files: number; problems: string[] } {
  const manifestFile = join(dir, BUNDLE_FILES.manifest);
  if (!existsSync(manifestFile)) throw new UserError(`${dir}: not a bundle (no ${BUNDLE_FILES.manifest})`);
  const manifest = readJsonFile(manifestFile, BundleManifest);
  const problems: string[] = [];
  for (const f of manifest.files) {
    if (!existsSync(join(dir, f.path))) {
      problems.push(`${f.path}: missing`);
      continue;
    }
    const actual = fileEntry(dir, f.path);
    if (actual.bytes !== f.bytes) problems.push(`${f.path}: ${actual.bytes} bytes, manifest says ${f.bytes}`);
    else if (actual.sha256 !== f.sha256) problems.push(`${f.path}: sha256 differs from the manifest`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const p of listFiles(dir)) if (!listed.has(p)) problems.push(`${p}: not in the manifest`);
  return { ok: problems.length === 0, files: manifest.files.length, problems };
}

/** Reads a bundle's description, checking it is one (serve verifies the manifest first). */
export function readBundleInfo(dir: string): BundleInfo {
  return readJsonFile(join(dir, BUNDLE_FILES.info), BundleInfo);
}
