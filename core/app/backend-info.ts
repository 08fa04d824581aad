import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Which TF.js backend notebook kernels will get, and why, told without loading TF.js (the app's own
 * process never trains). Mirrors the ladder in core/model/backend.ts; a kernel prints the backend
 * it really chose when a cell calls initBackend().
 */
export function describeBackend(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LREF_BACKEND) return `${env.LREF_BACKEND} (LREF_BACKEND is set)`;
  const require = createRequire(import.meta.url);
  const has = (pkg: string) => {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      return false;
    }
  };
  if (has('@tensorflow/tfjs-node-gpu')) return 'tensorflow via @tensorflow/tfjs-node-gpu (installed)';
  if (has('@tensorflow/tfjs-node')) return 'tensorflow via @tensorflow/tfjs-node (installed; no GPU package)';
  const missing = '@tensorflow/tfjs-node(-gpu) not installed (their binaries could not be downloaded)';
  const addon = fileURLToPath(new URL('../../native/build/lref_native.node', import.meta.url));
  if (existsSync(addon)) return `lref-native (${missing}; this project's native kernels are built)`;
  return `wasm (${missing}, and the native kernels are not built: no C++ compiler at install?)`;
}
