/**
 * Multi-head attention products that read and write heads in place, for 'lref-native'.
 *
 * The portable attention reshapes q, k and v [B,T,H·hd] to [B·H,T,hd] with a transpose each, and
 * the context back with a fourth (eight per layer with the gradients). Here each head is a strided
 * view — rows H·hd apart, starting at column h·hd — and the native gemm takes the strides, so no
 * head is ever copied out:
 *   attnScores(q, k)   [B,T,D], [B,Tk,D] → [B,H,T,Tk]   S_h = Q_h·K_hᵀ
 *   attnContext(p, v)  [B,H,T,Tk], [B,Tk,D] → [B,T,D]   O_h = P_h·V_h (merged heads, ready for W_o)
 * Their gradients are the same two products: dQ = ctx(dS, K), dK = ctx(dSᵀ, Q), dP = scores(dO, V),
 * dV = ctx(Pᵀ, dO).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { NativeAddon } from './native-addon.ts';
import { outputArray } from './native-pool.ts';
import { f32 } from './native-kernels.ts';

const SCORES = 'LrefAttnScores';
const CONTEXT = 'LrefAttnContext';

/** Per-head Q_h·K_hᵀ: q [B,T,D], k [B,Tk,D] → [B,H,T,Tk]. 'lref-native' only. */
export function attnScores(q: tf.Tensor3D, k: tf.Tensor3D, heads: number): tf.Tensor4D {
  return tf.engine().runKernel(SCORES, { q, k }, { heads }) as tf.Tensor4D;
}

/** Per-head P_h·V_h with heads merged: p [B,H,T,Tk], v [B,Tk,D] → [B,T,D]. 'lref-native' only. */
export function attnContext(p: tf.Tensor4D, v: tf.Tensor3D): tf.Tensor3D {
  return tf.engine().runKernel(CONTEXT, { p, v }, { transP: false }) as tf.Tensor3D;
}

type Args = { inputs: Record<string, TensorInfo>; backend: MathBackendCPU; attrs?: NamedAttrMap };

export function attentionKernelConfigs(addon: NativeAddon, backendName: string): KernelConfig[] {
  const scores = ({ inputs, backend, attrs }: Args) => {
    const { q, k } = inputs;
    const H = attrs?.heads as number;
    const [B, T, D] = q.shape;
    const Tk = k.shape[1];
    tf.util.assert(k.shape[0] === B && k.shape[2] === D && D % H === 0, () => `attnScores: shapes ${q.shape} ${k.shape}, ${H} heads`);
    const hd = D / H;
    const out = outputArray(backend, B * H * T * Tk);
    if (out.length > 0) {
      addon.stridedGemm(B, H, T, Tk, hd, 0, 1, f32(backend, q), T * D, hd, D, f32(backend, k), Tk * D, hd, D,
        out, H * T * Tk, T * Tk, Tk);
    }
    return backend.makeTensorInfo([B, H, T, Tk], 'float32', out);
  };
  const context = ({ inputs, backend, attrs }: Args) => {
    const { p, v } = inputs;
    const transP = attrs?.transP === true;
    const [B, H, R, C] = p.shape;
    const [, Tv, D] = v.shape;
    // op(P_h) is [M, K]: P_h itself, or its transpose (the dK and dV products).
    const [M, K] = transP ? [C, R] : [R, C];
    tf.util.assert(v.shape[0] === B && Tv === K && D % H === 0, () => `attnContext: shapes ${p.shape} ${v.shape}`);
    const hd = D / H;
    const out = outputArray(backend, B * M * D);
    if (out.length > 0) {
      addon.stridedGemm(B, H, M, hd, K, transP ? 1 : 0, 0, f32(backend, p), H * R * C, R * C, C, f32(backend, v), Tv * D, hd, D,
        out, M * D, hd, D);
    }
    return backend.makeTensorInfo([B, M, D], 'float32', out);
  };
  return [
    { kernelName: SCORES, backendName, kernelFunc: scores as unknown as KernelFunc },
    { kernelName: CONTEXT, backendName, kernelFunc: context as unknown as KernelFunc },
  ];
}

let gradientsRegistered = false;

export function registerAttentionGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  const ctx = (p: tf.Tensor, v: tf.Tensor, transP: boolean) => tf.engine().runKernel(CONTEXT, { p, v }, { transP }) as tf.Tensor;
  tf.registerGradient({
    kernelName: SCORES,
    inputsToSave: ['q', 'k'],
    gradFunc: (dy, [q, k]) => {
      const dS = dy as tf.Tensor;
      return { q: () => ctx(dS, k, false), k: () => ctx(dS, q, true) };
    },
  });
  tf.registerGradient({
    kernelName: CONTEXT,
    inputsToSave: ['p', 'v'],
    gradFunc: (dy, [p, v], attrs) => {
      if (attrs.transP === true) throw new Error('attnContext: no gradient for the transposed form');
      const dO = dy as tf.Tensor;
      const heads = p.shape[1]!;
      return { p: () => tf.engine().runKernel(SCORES, { q: dO, k: v }, { heads }) as tf.Tensor, v: () => ctx(p, dO, true) };
    },
  });
}
