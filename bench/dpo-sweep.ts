// DPO settings compared on a finished study's +dr checkpoints: for each seed, mine on train, run
// DPO with each setting, keep the checkpoint DpoConfig.validate picks on valid, report it on test
// (generated, as the +dpo variant is). Nothing here is chosen on test; the table says which split.
// Run: npx tsx bench/dpo-sweep.ts STUDY_DIR '[{"name":"base"},{"name":"beta","train":{"beta":0.5}},{"name":"all","minePairs":16000}]'
// (SEEDS=1,2 picks seeds; STUDY_DIR is an `lref study --out` folder of a run that reached +dr).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitByQuery } from '../core/data/split.ts';
import { computeMetrics } from '../core/eval/metrics.ts';
import { TrainConfig } from '../core/model/config.ts';
import { initBackend } from '../core/model/backend.ts';
import { presetFor } from '../core/model/presets.ts';
import { predictWithRationale } from '../core/stages/cot.ts';
import { minePreferences, runDpo, type DpoConfigInput, type MineConfigInput } from '../core/stages/dpo.ts';
import { PipelineConfig } from '../core/stages/pipeline-config.ts';
import { dpoMinePool, dpoValidCheck, loadPipelineData, makeTeacher } from '../core/stages/pipeline.ts';
import { loadRelevanceModel, type RelevanceModel } from '../core/stages/relevance-model.ts';
import type { StageContext } from '../core/stages/context.ts';

interface Setting {
  name: string;
  mine?: MineConfigInput;
  train?: DpoConfigInput;
  /** train pairs to mine on (default the run's dpo.minePairs) */
  minePairs?: number;
}

const [studyDir, settingsJson] = process.argv.slice(2);
const settings = JSON.parse(settingsJson) as Setting[];
const seeds = (process.env.SEEDS ?? '1,2,3').split(',').map(Number);
const backend = await initBackend(undefined);

const pct = (x: number) => (100 * x).toFixed(1);
for (const seed of seeds) {
  const runDir = join(studyDir, `seed-${seed}`);
  const cfg = PipelineConfig.parse(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).config);
  const data = await loadPipelineData(cfg);
  const split = splitByQuery(data.pairs, { ...cfg.split, seed });
  const policy = loadRelevanceModel(join(runDir, 'checkpoints', '+dr'));
  const rm: RelevanceModel = { model: policy.model, tokenizer: policy.tokenizer, scheme: policy.scheme, template: policy.template };
  const trainConfig = TrainConfig.parse({ ...presetFor(cfg.model.preset, policy.tokenizer.vocabSize).train, ...cfg.train, seed });
  const ctx: StageContext = {
    tokenizer: policy.tokenizer,
    scheme: policy.scheme,
    modelConfig: policy.model.config,
    trainConfig,
    seed,
    backend,
    newModel: () => policy.model.clone(),
  };
  // The pipeline's DPO asks with the last CoT model's answering template and the run's RA rules.
  const kind = policy.template.kind as 'ee' | 'ra';
  const rules = cfg.cot.rules;
  const pools = new Map<number, Awaited<ReturnType<typeof dpoMinePool>>>();
  const poolOf = async (n: number) => {
    if (!pools.has(n)) pools.set(n, await dpoMinePool(ctx, { ...cfg, dpo: { ...cfg.dpo, minePairs: n } }, split.train, kind, {}, makeTeacher(cfg, data.source)));
    return pools.get(n)!;
  };
  const check = dpoValidCheck(split.valid, policy.scheme, rules, cfg.eval);
  const onTest = (m: RelevanceModel) =>
    computeMetrics('t', split.test.map((p) => p.label), predictWithRationale(m, split.test, { rules, maxNewTokens: cfg.eval.maxNewTokens }).map((p) => p.label), policy.scheme);
  const start = onTest(rm);
  console.log(`seed ${seed}: start test acc ${pct(start.accuracy)} share ${pct(start.optimistic_error_share)} F1 ${pct(start.macro_f1)}`);
  for (const s of settings) {
    const pool = await poolOf(s.minePairs ?? cfg.dpo.minePairs);
    const prefs = minePreferences({ ...ctx, log: (l) => console.log(`  ${l}`) }, rm, pool, { ...cfg.dpo.mine, ...s.mine }, { rules, scheme: policy.scheme });
    const dpo = runDpo(ctx, rm, prefs, { ...cfg.dpo.train, ...s.train }, check);
    const t = onTest(dpo.model);
    const v0 = dpo.curve![0];
    const kept = dpo.curve!.find((c) => c.step === dpo.bestStep)!;
    console.log(
      `  ${s.name}: ${prefs.length} pairs; valid curve ${dpo.curve!.map((c) => `${c.step}:${pct(c.accuracy)}/${pct(c.optimisticShare)}`).join(' ')}`,
    );
    console.log(
      `  RESULT seed ${seed} ${s.name}: kept ${dpo.bestStep}; valid acc ${pct(v0.accuracy)}→${pct(kept.accuracy)} share ${pct(v0.optimisticShare)}→${pct(kept.optimisticShare)}` +
        ` (${pct(kept.optimisticShare / v0.optimisticShare - 1)}%); test acc ${pct(start.accuracy)}→${pct(t.accuracy)} share ${pct(start.optimistic_error_share)}→${pct(t.optimistic_error_share)}` +
        ` (${pct(t.optimistic_error_share / start.optimistic_error_share - 1)}%) F1 ${pct(start.macro_f1)}→${pct(t.macro_f1)} unparseable ${t.unparseable}`,
    );
    dpo.model.model.dispose();
  }
  policy.model.dispose();
}
