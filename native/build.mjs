#!/usr/bin/env node
// Builds the optional native kernels (native/build/lref_native*.node) with the system C++ compiler.
// Meant to run from `npm ci` (the "prepare" script). It must never fail an install: when there is
// no compiler or no Node headers it prints why and exits 0, and TF.js simply runs without the
// 'lref-native' backend.
//
// On x86-64 it builds three variants: `native` (-march=native, the fastest here), `avx2`
// (x86-64-v3) and `generic` (x86-64). Each refuses to load on a CPU that lacks the features it was
// compiled for (native/src/addon.cc checks at load), and core/model/native-addon.ts loads the
// first that accepts the CPU — so a build copied to another machine (a prebuilt app, a container
// image) falls back instead of dying with SIGILL. LREF_NATIVE_MARCH=X builds only -march=X.
//
// A build is reused only when its key matches: the sources' contents, this script, the compiler's
// version, the Node headers, the variants and the CPU it was built on (build-info.json records
// them), so moving the folder to another CPU or changing compiler rebuilds.
//
// `--sanitize` builds one AddressSanitizer + UBSan variant into native/build-sanitize/ (never
// touching the normal build) for `npm run test:native-sanitize`; there a failure exits 1.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');
const sanitize = process.argv.includes('--sanitize');
// LREF_NATIVE_BUILD_DIR: build elsewhere (the loader reads the same variable).
const outDir = process.env.LREF_NATIVE_BUILD_DIR ? resolve(process.env.LREF_NATIVE_BUILD_DIR) : join(here, sanitize ? 'build-sanitize' : 'build');
const infoPath = join(outDir, 'build-info.json');

function log(msg) {
  if (!quiet) console.log(`[lref-native] ${msg}`);
}

function findNodeHeaders() {
  const prefix = process.config?.variables?.node_prefix ?? '/usr';
  const candidates = [
    process.env.LREF_NODE_HEADERS,
    join(dirname(process.execPath), '..', 'include', 'node'),
    join(prefix, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
    join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'node_api.h')));
}

function findCompiler() {
  for (const cxx of [process.env.CXX, 'g++', 'clang++', 'c++'].filter(Boolean)) {
    try {
      return { cxx, version: execFileSync(cxx, ['--version'], { encoding: 'utf8' }).split('\n')[0] };
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** What the addon is built for: the CPU model and a hash of its feature flags. */
export function cpuSignature() {
  let model = cpus()[0]?.model ?? 'unknown';
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.*)$/m.exec(info)?.[1] ?? model;
    flags = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
  } catch {
    // not Linux: the model name alone
  }
  const sorted = flags.split(/\s+/).filter(Boolean).sort().join(' ');
  return { arch: process.arch, model, flagsHash: createHash('sha256').update(sorted).digest('hex').slice(0, 16) };
}

function variantsFor() {
  if (sanitize) return [{ name: 'native', march: process.env.LREF_NATIVE_MARCH ?? 'native' }];
  if (process.env.LREF_NATIVE_MARCH) return [{ name: 'native', march: process.env.LREF_NATIVE_MARCH }];
  // name:march,name:march — for packaging a build for other machines (and for the loader's tests)
  const list = process.env.LREF_NATIVE_VARIANTS;
  if (list) return list.split(',').map((v) => ({ name: v.split(':')[0], march: v.split(':')[1] ?? v }));
  if (process.arch !== 'x64') return [{ name: 'native', march: 'native' }];
  return [{ name: 'native', march: 'native' }, { name: 'avx2', march: 'x86-64-v3' }, { name: 'generic', march: 'x86-64' }];
}

function fileFor(variant) {
  return variant.name === 'native' ? 'lref_native.node' : `lref_native-${variant.name}.node`;
}

// Compiler macros -> the LREF_NEED_* names addon.cc checks with __builtin_cpu_supports.
const FEATURE_MACROS = {
  __SSE4_2__: 'SSE4_2', __POPCNT__: 'POPCNT', __AVX__: 'AVX', __AVX2__: 'AVX2', __FMA__: 'FMA', __BMI__: 'BMI',
  __BMI2__: 'BMI2', __AVX512F__: 'AVX512F', __AVX512DQ__: 'AVX512DQ', __AVX512CD__: 'AVX512CD',
  __AVX512BW__: 'AVX512BW', __AVX512VL__: 'AVX512VL', __AVX512VBMI__: 'AVX512VBMI', __AVX512IFMA__: 'AVX512IFMA',
  __AVX512VNNI__: 'AVX512VNNI', __AVX512BF16__: 'AVX512BF16', __AVX512VBMI2__: 'AVX512VBMI2',
  __AVX512BITALG__: 'AVX512BITALG', __AVX512VPOPCNTDQ__: 'AVX512VPOPCNTDQ',
  __AVX512VP2INTERSECT__: 'AVX512VP2INTERSECT', __AVX512FP16__: 'AVX512FP16',
};

async function featuresOf(cxx, march) {
  const { stdout } = await run(cxx, [`-march=${march}`, '-dM', '-E', '-x', 'c++', '/dev/null']);
  const defined = new Set(stdout.split('\n').map((l) => l.split(' ')[1]));
  return Object.entries(FEATURE_MACROS).filter(([m]) => defined.has(m)).map(([, f]) => f);
}

/** Runs the jobs (functions returning promises), at most `limit` at a time. */
async function pooled(jobs, limit) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

async function buildVariant(cxx, headers, variant, sources) {
  const dir = join(outDir, variant.name);
  mkdirSync(dir, { recursive: true });
  const features = await featuresOf(cxx, variant.march);
  const opt = sanitize
    ? ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined']
    : [process.env.LREF_NATIVE_OPT ?? '-O3']; // LREF_NATIVE_OPT=-O0: a quick build for tests of the build itself
  // -fopenmp-simd only honours `#pragma omp simd` (vectorised reductions); no OpenMP runtime.
  const common = ['-std=c++17', ...opt, '-fopenmp-simd', '-fPIC', '-pthread', '-fvisibility=hidden',
    '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=lref_native', `-I${headers}`, '-Wall'];
  const jobs = sources.map((src) => async () => {
    const name = src.slice(srcDir.length + 1);
    const obj = join(dir, name.replace(/\.cc$/, '.o'));
    // addon.cc is the entry point: built for the baseline CPU, it checks the CPU has the kernels'
    // features before anything else runs. vmath.cc alone gets fast-math: that is what lets GCC
    // call glibc's vector expf/tanhf.
    const extra = name === 'addon.cc'
      ? [`-DLREF_VARIANT="${variant.name}"`, ...features.map((f) => `-DLREF_NEED_${f}=1`)]
      : [`-march=${variant.march}`, ...(name === 'vmath.cc' ? ['-ffast-math'] : [])];
    log(`${cxx} ${variant.name}: ${name}`);
    await run(cxx, [...common, ...extra, '-c', src, '-o', obj], { maxBuffer: 16 << 20 });
    return obj;
  });
  return { features, objects: await pooled(jobs, Math.max(1, Math.min(2, availableParallelism()))), opt };
}

async function link(cxx, objects, target) {
  const flags = ['-shared', '-pthread', ...(sanitize ? ['-fsanitize=address,undefined'] : [])];
  try {
    await run(cxx, [...flags, '-o', target, ...objects, '-lmvec', '-lm']);
  } catch {
    // libmvec is glibc-only; without it the scalar math calls still link.
    await run(cxx, [...flags, '-o', target, ...objects, '-lm']);
  }
}

async function build() {
  if (process.env.LREF_NATIVE_SKIP === '1' && !sanitize) return log('skipped (LREF_NATIVE_SKIP=1)');
  const headers = findNodeHeaders();
  if (!headers) return fail('not built: Node headers (node_api.h) not found; TF.js will use its own backends');
  const compiler = findCompiler();
  if (!compiler) return fail('not built: no C++ compiler (g++/clang++) found; TF.js will use its own backends');
  const { cxx, version } = compiler;
  const sources = readdirSync(srcDir).filter((f) => f.endsWith('.cc')).sort().map((f) => join(srcDir, f));
  const inputs = readdirSync(srcDir).sort().map((f) => join(srcDir, f));
  const variants = variantsFor();
  const cpu = cpuSignature();
  const hash = createHash('sha256');
  for (const f of [...inputs, fileURLToPath(import.meta.url)]) hash.update(f.slice(here.length)).update(readFileSync(f));
  hash.update(JSON.stringify({ version, node: process.versions.node, headers, variants, sanitize, cpu, opt: process.env.LREF_NATIVE_OPT }));
  const key = hash.digest('hex');
  const previous = existsSync(infoPath) ? JSON.parse(readFileSync(infoPath, 'utf8')) : undefined;
  if (!force && previous?.key === key && previous.variants?.every((v) => existsSync(join(outDir, v.file)))) {
    return log(`up to date: ${outDir}`);
  }
  if (previous && previous.key !== key && JSON.stringify(previous.cpu) !== JSON.stringify(cpu)) {
    log(`rebuilding: built for ${previous.cpu?.model ?? 'another CPU'}, this is ${cpu.model}`);
  }
  mkdirSync(outDir, { recursive: true });
  const built = [];
  for (const variant of variants) {
    try {
      const { features, objects } = await buildVariant(cxx, headers, variant, sources);
      const file = fileFor(variant);
      await link(cxx, objects, join(outDir, file));
      built.push({ ...variant, file, features });
    } catch (e) {
      // A variant the compiler cannot make (an old g++ without x86-64-v3) is skipped; the native
      // one is the one that matters here.
      const msg = e instanceof Error ? (e.stderr || e.message) : String(e);
      if (variant.name === 'native') throw new Error(msg);
      console.warn(`[lref-native] warning: the ${variant.name} variant did not build: ${msg.split('\n')[0]}`);
    }
  }
  writeFileSync(infoPath, JSON.stringify({
    builtAt: new Date().toISOString(), compiler: cxx, compilerVersion: version, node: process.versions.node, headers,
    sanitize, cpu, key, variants: built,
  }, null, 2));
  log(`built ${built.map((v) => v.file).join(', ')} in ${outDir}`);
}

function fail(msg) {
  if (sanitize) throw new Error(msg);
  log(msg);
}

try {
  await build();
  process.exitCode = 0;
} catch (e) {
  const msg = e instanceof Error ? e.message : String(e);
  if (sanitize) {
    console.error(`[lref-native] sanitizer build failed: ${msg}`);
    process.exitCode = 1;
  } else {
    console.warn(`[lref-native] warning: build failed, continuing without the native backend: ${msg}`);
    process.exitCode = 0;
  }
}
export const nativeAddonPath = resolve(outDir, 'lref_native.node');
