#!/usr/bin/env node
// Builds the optional native kernels (native/build/lref_native.node) with the system C++ compiler.
// Meant to run from `npm ci` (the "prepare" script). It must never fail an install: when there is
// no compiler or no Node headers it prints why and exits 0, and TF.js simply runs without the
// 'lref-native' backend. The addon is built for the CPU it runs on (-march=native), which is
// right because it is built on the machine that uses it; set LREF_NATIVE_MARCH to override.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');
const outDir = join(here, 'build');
const target = join(outDir, 'lref_native.node');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');

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
      execFileSync(cxx, ['--version'], { stdio: 'ignore' });
      return cxx;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function upToDate(sources) {
  if (force || !existsSync(target)) return false;
  const built = statSync(target).mtimeMs;
  return [...sources, fileURLToPath(import.meta.url)].every((f) => statSync(f).mtimeMs <= built);
}

function build() {
  if (process.env.LREF_NATIVE_SKIP === '1') return log('skipped (LREF_NATIVE_SKIP=1)');
  const headers = findNodeHeaders();
  if (!headers) return log('not built: Node headers (node_api.h) not found; TF.js will use its own backends');
  const cxx = findCompiler();
  if (!cxx) return log('not built: no C++ compiler (g++/clang++) found; TF.js will use its own backends');
  const files = readdirSync(srcDir);
  const sources = files.filter((f) => f.endsWith('.cc')).map((f) => join(srcDir, f));
  const allInputs = files.map((f) => join(srcDir, f));
  if (upToDate(allInputs)) return log(`up to date: ${target}`);
  mkdirSync(outDir, { recursive: true });
  const march = process.env.LREF_NATIVE_MARCH ?? 'native';
  // -fopenmp-simd only honours `#pragma omp simd` (vectorised reductions); no OpenMP runtime.
  const common = ['-std=c++17', '-O3', '-fopenmp-simd', `-march=${march}`, '-fPIC', '-pthread', '-fvisibility=hidden',
    '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=lref_native', `-I${headers}`, '-Wall'];
  const objects = [];
  for (const src of sources) {
    const obj = join(outDir, src.slice(srcDir.length + 1).replace(/\.cc$/, '.o'));
    // vmath.cc alone gets fast-math: that is what lets GCC call glibc's vector expf/tanhf.
    const extra = src.endsWith('vmath.cc') ? ['-ffast-math'] : [];
    log(`${cxx} ${src.slice(here.length + 1)}`);
    execFileSync(cxx, [...common, ...extra, '-c', src, '-o', obj], { stdio: 'inherit' });
    objects.push(obj);
  }
  const libs = ['-lmvec', '-lm'];
  try {
    execFileSync(cxx, ['-shared', '-pthread', '-o', target, ...objects, ...libs], { stdio: 'inherit' });
  } catch {
    // libmvec is glibc-only; without it the scalar math calls still link.
    execFileSync(cxx, ['-shared', '-pthread', '-o', target, ...objects, '-lm'], { stdio: 'inherit' });
  }
  writeFileSync(join(outDir, 'build-info.json'), JSON.stringify({
    builtAt: new Date().toISOString(), compiler: cxx, march, node: process.versions.node, headers,
  }, null, 2));
  log(`built ${target}`);
}

try {
  build();
} catch (e) {
  console.warn(`[lref-native] warning: build failed, continuing without the native backend: ${e instanceof Error ? e.message : e}`);
}
process.exitCode = 0;
export const nativeAddonPath = resolve(target);
