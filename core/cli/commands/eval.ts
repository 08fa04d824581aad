import { join } from 'node:path';
import type { Command } from '../command.ts';
import { optBool, optInt, optString, reqString } from '../args.ts';
import { FORMATS, loadDataset } from '../../data/load.ts';
import { splitByQuery } from '../../data/split.ts';
import { canMap, getScheme, mapLabel } from '../../data/labels.ts';
import { initBackend } from '../../model/backend.ts';
import { computeMetrics } from '../../eval/metrics.ts';
import { formatConfusion, formatMetricsTable, formatPerClass } from '../../eval/format.ts';
import { loadRelevanceModel, predictLabels } from '../../stages/relevance-model.ts';
import { AtomicLineWriter } from '../../util/atomic.ts';
import { UserError } from '../../util/errors.ts';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Score a trained model on a data file: macro/weighted-F1, accuracy, per-class, confusion, optimistic bias',
  usage: 'eval --model DIR --data FILE [--format F] [--labels SCHEME] [--split all|test] [--seed S] [--predictions FILE] [--json]',
  examples: [
    'lref eval --model /tmp/m --data /tmp/s.jsonl',
    'lref eval --model /tmp/m --data /tmp/s.jsonl --split test --labels esci4 --json',
  ],
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    format: { type: 'string' },
    scheme: { type: 'string' },
    labels: { type: 'string' },
    split: { type: 'string' },
    seed: { type: 'string' },
    predictions: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    model: 'a folder written by `lref train` (or a pipeline variant’s checkpoint)',
    data: 'the pairs to score',
    format: `one of ${FORMATS.join(', ')} (default: detected)`,
    scheme: 'jsonl only: the data’s label scheme (default: inferred)',
    labels: 'report in this label scheme (e.g. esci4, wands3, binary), mapping gold and predictions',
    split: 'all pairs (default) or only the held-out test split `lref train` used (same --seed)',
    seed: 'the split seed with --split test (default 1, as lref train)',
    predictions: 'also write per-pair predictions as JSONL here',
    backend: 'pin a TF.js backend (default: the fastest available)',
    json: 'print one JSON object (the metrics record) instead of tables',
  },
  async run(args, io) {
    const json = optBool(args, 'json');
    const backend = await initBackend(optString(args, 'backend'));
    const rm = loadRelevanceModel(reqString(args, 'model'));
    const dataPath = reqString(args, 'data');
    const ds = await loadDataset(dataPath, { format: optString(args, 'format'), scheme: optString(args, 'scheme') });
    if (ds.scheme !== rm.scheme.id && !canMap(ds.scheme, rm.scheme.id)) {
      throw new UserError(`${dataPath}: labels are in scheme ${ds.scheme} but the model predicts ${rm.scheme.id}, and there is no mapping between them`);
    }
    const which = optString(args, 'split') ?? 'all';
    if (which !== 'all' && which !== 'test') throw new UserError(`--split must be all or test, got "${which}"`);
    const pairs = which === 'test' ? splitByQuery(ds.pairs, { train: 0.8, valid: 0.1, test: 0.1, seed: optInt(args, 'seed', 1, 0) }).test : ds.pairs;
    if (pairs.length === 0) throw new UserError(`${dataPath}: no pairs to evaluate`);

    const preds = predictLabels(rm, pairs);
    // Gold in the model's scheme first (a graded file scored by an LREF-5 model), then both in --labels.
    const goldModel = pairs.map((p) => mapLabel(ds.scheme, rm.scheme.id, p.label));
    const target = getScheme(optString(args, 'labels') ?? rm.scheme.id);
    const gold = goldModel.map((l) => mapLabel(rm.scheme.id, target.id, l));
    const pred = preds.map((p) => mapLabel(rm.scheme.id, target.id, p.label));
    const record = computeMetrics(join(reqString(args, 'model')), gold, pred, target);

    const predFile = optString(args, 'predictions');
    if (predFile) {
      const w = new AtomicLineWriter(predFile);
      try {
        pairs.forEach((p, i) => w.writeLine(JSON.stringify({ pair_id: p.pair_id, gold: gold[i], label: pred[i], probs: preds[i].probs })));
        w.commit();
      } catch (e) {
        w.abort();
        throw e;
      }
    }
    if (json) io.out(JSON.stringify({ backend, scheme: target.id, ...record }));
    else {
      const rule = rm.decision ? `the rule fitted on ${rm.decision.fitted_on} (offsets ${rm.decision.offsets.map((o) => o.toFixed(1)).join(' / ')})` : 'argmax';
      io.out(`backend ${backend} · ${pairs.length} pairs · scheme ${target.id} · grades by ${rule}`);
      io.out(formatMetricsTable([record]));
      io.out('');
      io.out(formatPerClass(record));
      io.out('');
      io.out(formatConfusion(record));
    }
    rm.model.dispose();
    return 0;
  },
};
