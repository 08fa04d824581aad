#!/usr/bin/env node
// `npm run test:native-sanitize`: builds the addon with AddressSanitizer + UBSan into
// native/build-sanitize/ (the normal build in native/build is never touched) and runs the native
// kernel tests against it. Any out-of-bounds access, use-after-free or undefined behaviour in a
// kernel aborts the test process, which fails the run.
//
// ASan must be the first library loaded into node, hence LD_PRELOAD; leak checking is off because
// node itself does not free everything at exit.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const TESTS = ['core/model/native-safety.test.ts', 'core/model/native-backend.test.ts', 'core/model/native-threads.test.ts',
  'core/model/native-model.test.ts'];

function die(msg) {
  console.error(`[lref-native sanitize] ${msg}`);
  process.exit(1);
}

const build = spawnSync(process.execPath, [join(here, 'build.mjs'), '--sanitize'], { stdio: 'inherit' });
if (build.status !== 0) die('the sanitizer build failed');
const addon = join(here, 'build-sanitize', 'lref_native.node');
if (!existsSync(addon)) die(`no ${addon}`);

const cxx = process.env.CXX ?? 'g++';
const runtime = (name) => execFileSync(cxx, [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
const asan = runtime('libasan.so');
if (!asan.startsWith('/')) die(`${cxx} does not know where libasan.so is (got "${asan}"); install the compiler's sanitizer runtime`);

const env = {
  ...process.env,
  LD_PRELOAD: asan,
  // V8 handles SIGSEGV itself (WebAssembly bounds): leave those signals to it.
  ASAN_OPTIONS: 'detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:abort_on_error=1:detect_odr_violation=0',
  UBSAN_OPTIONS: 'halt_on_error=1:abort_on_error=1:print_stacktrace=1',
  LREF_NATIVE_ADDON: addon,
};
console.log(`[lref-native sanitize] ${addon} with ${asan}`);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', ...TESTS, ...process.argv.slice(2)], { stdio: 'inherit', env, cwd: root });
if (r.signal) die(`the test run died with ${r.signal}`);
process.exit(r.status ?? 1);
