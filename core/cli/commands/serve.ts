import type { Command } from '../command.ts';
import { optInt, optString } from '../args.ts';
import { initBackend } from '../../model/backend.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BundleJudge, type ServedJudge } from '../../serve/judge.ts';
import { HFJudge } from '../../serve/hf-judge.ts';
import { startServer } from '../../serve/server.ts';
import { UserError } from '../../util/errors.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve a bundle over an OpenAI-compatible API (/v1/models, /v1/chat/completions) plus /v1/relevance and /healthz',
  usage: 'serve BUNDLE|--model MODEL_DIR [--host 127.0.0.1] [--port 8000] [--api-key-env VAR] [--max-queue N] [--max-batch N] [--max-body BYTES] [--backend B]',
  examples: [
    'lref serve /tmp/bundle --port 8000',
    'LREF_KEY=secret lref serve /tmp/bundle --host 0.0.0.0 --api-key-env LREF_KEY',
  ],
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    'api-key-env': { type: 'string' },
    'max-queue': { type: 'string' },
    'max-batch': { type: 'string' },
    'max-body': { type: 'string' },
    backend: { type: 'string' },
    model: { type: 'string' },
  },
  optionHelp: {
    model: 'serve an exported imported model (`lref model export`: merged LoRA weights + lref-judge.json) instead of a bundle',
    host: 'address to listen on (default 127.0.0.1: loopback only)',
    port: 'port (default 8000; 0 picks a free one)',
    'api-key-env': 'name of an environment variable holding the bearer key clients must send',
    'max-queue': 'requests waiting for the model before answering 429 (default 256)',
    'max-batch': 'pairs per scoring forward pass when concurrent requests are batched (default 64)',
    'max-body': 'request body limit in bytes (default 1048576; larger answers 413)',
    backend: 'pin a TF.js backend (default: the fastest available)',
  },
  async run(args, io) {
    const bundle = args.positionals[0] ?? optString(args, 'model');
    if (!bundle) throw new UserError('BUNDLE (a folder written by `lref export --to bundle`) is required');
    const host = optString(args, 'host') ?? '127.0.0.1';
    const keyEnv = optString(args, 'api-key-env');
    let apiKey: string | undefined;
    if (keyEnv !== undefined) {
      apiKey = process.env[keyEnv];
      if (!apiKey) throw new UserError(`--api-key-env ${keyEnv}: the environment variable is not set or empty`);
    }
    if (!LOOPBACK.has(host) && !apiKey) io.err(`lref serve: warning: listening on ${host} without --api-key-env; anyone who can reach it can use it`);
    const backend = await initBackend(optString(args, 'backend'));
    // An exported imported model carries lref-judge.json; a bundle its manifest.
    const judge: ServedJudge = existsSync(join(bundle, 'lref-judge.json')) ? HFJudge.load(bundle) : BundleJudge.load(bundle);
    const running = await startServer(judge, {
      host,
      port: optInt(args, 'port', 8000, 0, 65535),
      apiKey,
      maxQueue: optInt(args, 'max-queue', 256, 1),
      maxBatchPairs: optInt(args, 'max-batch', 64, 1, 4096),
      maxBodyBytes: optInt(args, 'max-body', 1 << 20, 1024),
      log: (line) => io.err(`lref serve: ${line}`),
    });
    // One line on stdout with the address, so scripts (and the load test) can wait for it.
    io.out(JSON.stringify({ url: running.url, model: judge.name, backend, auth: apiKey !== undefined }));
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        io.err(`lref serve: ${signal}: finishing queued requests, then closing`);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        running.close().then(resolve, resolve);
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    judge.dispose();
    return 0;
  },
};
