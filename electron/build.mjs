import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Bundles the Electron main process and preload into dist/electron/{main,preload}.cjs.
 * main: Node platform, npm packages left as run-time requires from the checkout's node_modules
 * (electron itself, ws, zod); core stays out of it (it runs from source in host-main.ts).
 * preload: browser platform and only 'electron' external, because a sandboxed preload can require
 * nothing else; a stray Node import fails this build instead of failing at run time.
 * Usage: `node electron/build.mjs`, or buildElectron() from launch.ts.
 */
export async function buildElectron(root = join(dirname(fileURLToPath(import.meta.url)), '..')) {
  const outDir = join(root, 'dist', 'electron');
  const common = { bundle: true, format: 'cjs', target: 'es2022', logLevel: 'warning', absWorkingDir: root, sourcemap: 'inline' };
  const main = join(outDir, 'main.cjs');
  const preload = join(outDir, 'preload.cjs');
  await Promise.all([
    build({ ...common, entryPoints: [join(root, 'electron', 'main-entry.ts')], outfile: main, platform: 'node', packages: 'external' }),
    build({ ...common, entryPoints: [join(root, 'electron', 'preload-entry.ts')], outfile: preload, platform: 'browser', external: ['electron'] }),
  ]);
  return { main, preload };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = await buildElectron();
  process.stdout.write(`built ${out.main}\nbuilt ${out.preload}\n`);
}
