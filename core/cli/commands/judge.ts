import type { Command } from '../command.ts';
import { optBool, optInt, optString, reqString } from '../args.ts';
import { getScheme } from '../../data/labels.ts';
import { joinVariant } from '../../runs/join.ts';
import { readRun } from '../../runs/store.ts';
import { DEFAULT_JUDGE_TEMPLATE, judgePairs, loadJudgeTemplate } from '../../teachers/openai-judge.ts';
import { UserError } from '../../util/errors.ts';

export const judgeCommand: Command = {
  name: 'judge',
  summary: 'Ask an OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp, lref serve, OpenAI) to grade a run\'s test pairs zero-shot; joins the run as a variant',
  usage: 'judge RUN --base-url URL --model M --name NAME [--api-key-env VAR] [--template FILE] [--concurrency N] [--cache DIR] [--json]',
  examples: [
    'lref judge runs/r1 --base-url http://127.0.0.1:11434/v1 --model qwen2.5:7b --api-key-env "" --name qwen-zero-shot',
    'lref judge runs/r1 --base-url https://api.openai.com/v1 --model gpt-4o-mini --name gpt4o-mini --cache ~/.cache/lref-judge',
  ],
  options: {
    'base-url': { type: 'string' },
    model: { type: 'string' },
    name: { type: 'string' },
    'api-key-env': { type: 'string' },
    template: { type: 'string' },
    concurrency: { type: 'string' },
    cache: { type: 'string' },
    json: { type: 'boolean' },
  },
  optionHelp: {
    'base-url': 'the endpoint root including /v1',
    model: 'the model name the endpoint serves',
    name: 'the variant name in the run',
    'api-key-env': 'environment variable holding the key (default OPENAI_API_KEY; "" sends none)',
    template: `a JSON judge template {version, id, system, user} with {{labels}} and {{pair}} (default ${DEFAULT_JUDGE_TEMPLATE.id})`,
    concurrency: 'requests in flight at once (default 4)',
    cache: 'a response cache folder: a rerun asks nothing twice',
    json: 'print one JSON line',
  },
  async run(args, io) {
    const dir = args.positionals[0];
    if (!dir) throw new UserError('RUN (a run folder) is required');
    const run = readRun(dir);
    const scheme = getScheme(run.run.data.scheme);
    const baseUrl = reqString(args, 'base-url');
    const model = reqString(args, 'model');
    const name = reqString(args, 'name');
    const templateFile = optString(args, 'template');
    const template = templateFile ? loadJudgeTemplate(templateFile) : DEFAULT_JUDGE_TEMPLATE;
    const cacheDir = optString(args, 'cache');
    const json = optBool(args, 'json');
    const judged = await judgePairs(
      run.pairs,
      scheme,
      {
        baseUrl,
        model,
        apiKeyEnv: optString(args, 'api-key-env') ?? 'OPENAI_API_KEY',
        concurrency: optInt(args, 'concurrency', 4, 1, 256),
        maxTokens: 200,
        ...(cacheDir ? { cacheDir } : {}),
      },
      { template, onProgress: (d, t) => !json && io.isTTY && io.errRaw(`\rlref judge: ${d}/${t}`) },
    );
    if (!json && io.isTTY) io.errRaw('\n');
    const r = joinVariant(dir, name, judged, { kind: 'endpoint', source: baseUrl, model, template: template.id });
    const unreadable = judged.filter((j) => j.label === null).length;
    if (json) io.out(JSON.stringify({ ...r, unreadable }));
    else io.out(`${name}: ${model} at ${baseUrl} graded ${judged.length} pairs (${unreadable} answers named no grade); macro-F1 ${(100 * r.macro_f1).toFixed(2)}, accuracy ${(100 * r.accuracy).toFixed(2)}`);
    return 0;
  },
};
