/**
 * The 'lref-native' TF.js backend: the tfjs cpu backend (same tensor storage, same kernels, plus
 * a pool of output arrays, native-pool.ts) with the hot kernels — matmul, broadcasting arithmetic, transcendental maps, reductions,
 * transposes, softmax, gathers — replaced by the C++ addon in native/ (AVX2/AVX-512, both cores).
 *
 * Importing this file registers the backend when the addon is built and registers nothing
 * otherwise; `nativeBackendStatus()` says which and why. It is registered at priority 0 so it is
 * never picked implicitly: callers opt in with `await tf.setBackend('lref-native')`.
 */
import { getKernelsForBackend, registerBackend, registerKernel } from '@tensorflow/tfjs-core';
import { loadNativeAddon } from './native-addon.ts';
import { PooledCpuBackend } from './native-pool.ts';
import { nativeKernelConfigs } from './native-kernels.ts';
import { fusedKernelConfigs, registerFusedGradients } from './native-ops.ts';
import { dropoutKernelConfigs, registerDropoutGradient } from './native-dropout.ts';
import { attentionKernelConfigs, registerAttentionGradients } from './native-attention.ts';

export const NATIVE_BACKEND = 'lref-native';

export type NativeBackendStatus =
  | { registered: true; name: string; isa: string; threads: number; variant: string; addonPath: string; nativeKernels: string[] }
  | { registered: false; name: string; reason: string; addonPath: string };

let status: NativeBackendStatus | undefined;

/** Registers 'lref-native' once (idempotent) and returns what happened. */
export function registerNativeBackend(): NativeBackendStatus {
  if (status) return status;
  const loaded = loadNativeAddon();
  if (!loaded.available) {
    status = { registered: false, name: NATIVE_BACKEND, reason: loaded.reason, addonPath: loaded.path };
    return status;
  }
  const native = [...nativeKernelConfigs(loaded.addon, NATIVE_BACKEND), ...fusedKernelConfigs(loaded.addon, NATIVE_BACKEND),
    ...dropoutKernelConfigs(loaded.addon, NATIVE_BACKEND), ...attentionKernelConfigs(loaded.addon, NATIVE_BACKEND)];
  const overridden = new Set(native.map((k) => k.kernelName));
  registerBackend(NATIVE_BACKEND, () => new PooledCpuBackend(), 0);
  for (const k of getKernelsForBackend('cpu')) {
    if (!overridden.has(k.kernelName)) registerKernel({ ...k, backendName: NATIVE_BACKEND });
  }
  for (const k of native) registerKernel(k);
  registerFusedGradients();
  registerDropoutGradient();
  registerAttentionGradients();
  status = {
    registered: true, name: NATIVE_BACKEND, isa: loaded.isa, threads: loaded.threads, variant: loaded.variant, addonPath: loaded.path,
    nativeKernels: [...overridden].sort(),
  };
  return status;
}

export function nativeBackendStatus(): NativeBackendStatus {
  return registerNativeBackend();
}

registerNativeBackend();
