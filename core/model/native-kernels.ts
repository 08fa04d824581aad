/**
 * The TF.js kernels that the 'lref-native' backend runs in C++ instead of the cpu backend's
 * JavaScript loops. Each works on the Float32Array the cpu backend already stores for a tensor
 * (zero copy) and hands anything it does not cover (other dtypes, unusual axes) to the cpu kernel.
 */
import { backend_util, getKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { BinaryOp, ReduceOp, UnaryOp, type NativeAddon } from './native-addon.ts';
import { outputArray } from './native-pool.ts';

type Args = { inputs: Record<string, TensorInfo>; backend: MathBackendCPU; attrs?: NamedAttrMap };
type Kernel = (args: Args) => TensorInfo | TensorInfo[];

export function f32(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  return backend.data.get(t.dataId).values as Float32Array;
}

function i32(backend: MathBackendCPU, t: TensorInfo): Int32Array {
  return backend.data.get(t.dataId).values as Int32Array;
}

function isF32(backend: MathBackendCPU, ...ts: TensorInfo[]): boolean {
  return ts.every((t) => t.dtype === 'float32' && backend.data.get(t.dataId).values instanceof Float32Array);
}

/** The cpu backend's own kernel, for the cases a native kernel leaves to it. */
function cpu(name: string): Kernel {
  const k = getKernel(name, 'cpu');
  if (!k) throw new Error(`tfjs cpu backend has no kernel ${name}`);
  return k.kernelFunc as unknown as Kernel;
}

function out(backend: MathBackendCPU, shape: number[], values: Float32Array): TensorInfo {
  return backend.makeTensorInfo(shape, 'float32', values);
}

/** [ndim, ...shape, ...stridesA, ...stridesB] with stride 0 on broadcast dims. */
export function broadcastMeta(aShape: number[], bShape: number[]): { outShape: number[]; meta: Int32Array } {
  const outShape = backend_util.assertAndGetBroadcastShape(aShape, bShape);
  const nd = Math.max(outShape.length, 1);
  const meta = new Int32Array(1 + 3 * nd);
  meta[0] = nd;
  const strides = (shape: number[], base: number) => {
    let s = 1;
    for (let d = nd - 1; d >= 0; d--) {
      const src = d - (nd - shape.length);
      const dim = src >= 0 ? shape[src] : 1;
      meta[base + d] = dim === 1 ? 0 : s;
      s *= dim;
    }
  };
  for (let d = 0; d < nd; d++) meta[1 + d] = outShape.length ? outShape[d] : 1;
  strides(aShape, 1 + nd);
  strides(bShape, 1 + 2 * nd);
  return { outShape, meta };
}

function binaryKernel(name: string, op: number, addon: NativeAddon): Kernel {
  const fallback = cpu(name);
  return (args) => {
    const { a, b } = args.inputs;
    const backend = args.backend;
    if (!isF32(backend, a, b)) return fallback(args);
    const { outShape, meta } = broadcastMeta(a.shape, b.shape);
    const res = outputArray(backend, util.sizeFromShape(outShape));
    if (res.length > 0) addon.binary(op, meta, f32(backend, a), f32(backend, b), res);
    return out(backend, outShape, res);
  };
}

function unaryKernel(name: string, op: number, addon: NativeAddon): Kernel {
  const fallback = cpu(name);
  return (args) => {
    const { x } = args.inputs;
    const backend = args.backend;
    if (!isF32(backend, x)) return fallback(args);
    const res = outputArray(backend, util.sizeFromShape(x.shape));
    addon.unary(op, f32(backend, x), res);
    return out(backend, x.shape, res);
  };
}

/** Reductions over one contiguous run of axes ([outer, r, inner]); others go to the cpu kernel. */
function reduceKernel(name: string, op: number, axisAttr: string, addon: NativeAddon): Kernel {
  const fallback = cpu(name);
  return (args) => {
    const { x } = args.inputs;
    const backend = args.backend;
    if (!isF32(backend, x)) return fallback(args);
    const axes = util.parseAxisParam(args.attrs?.[axisAttr] as number | number[], x.shape).sort((p, q) => p - q);
    const contiguous = axes.every((ax, i) => i === 0 || ax === axes[i - 1] + 1);
    if (!contiguous || axes.length === 0) return fallback(args);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = util.sizeFromShape(x.shape.slice(0, first));
    const r = util.sizeFromShape(x.shape.slice(first, last + 1));
    const inner = util.sizeFromShape(x.shape.slice(last + 1));
    if (r === 0) return fallback(args);
    const keep = args.attrs?.keepDims === true;
    const outShape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
    const res = outputArray(backend, outer * inner);
    addon.reduce(op, f32(backend, x), res, outer, r, inner);
    return out(backend, outShape, res);
  };
}

function matMul(addon: NativeAddon, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean,
  backend: MathBackendCPU): TensorInfo {
  const ar = a.shape.length;
  const br = b.shape.length;
  const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
  const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
  const kb = transposeB ? b.shape[br - 1] : b.shape[br - 2];
  const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
  util.assert(k === kb, () => `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ` +
    `${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  const outer = backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const res = outputArray(backend, batch * m * n);
  addon.gemm(batch, batchA, batchB, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, f32(backend, a), f32(backend, b), res);
  return out(backend, [...outer, m, n], res);
}

/** Every native kernel, keyed by TF.js kernel name, for the given backend name. */
export function nativeKernelConfigs(addon: NativeAddon, backendName: string): KernelConfig[] {
  const kernels: Record<string, Kernel> = {};

  const batchMatMulCpu = cpu('BatchMatMul');
  kernels.BatchMatMul = (args) => {
    const { a, b } = args.inputs;
    if (!isF32(args.backend, a, b)) return batchMatMulCpu(args);
    return matMul(addon, a, b, args.attrs?.transposeA === true, args.attrs?.transposeB === true, args.backend);
  };

  const fusedCpu = cpu('_FusedMatMul');
  kernels._FusedMatMul = (args) => {
    const { a, b, bias } = args.inputs;
    const activation = (args.attrs?.activation as string | undefined) ?? 'linear';
    const nativeAct: Record<string, number | undefined> = { linear: undefined, relu: UnaryOp.relu, sigmoid: UnaryOp.sigmoid };
    if (!isF32(args.backend, a, b) || (bias && !isF32(args.backend, bias)) || !(activation in nativeAct)) return fusedCpu(args);
    const backend = args.backend;
    const mm = matMul(addon, a, b, args.attrs?.transposeA === true, args.attrs?.transposeB === true, backend);
    const values = f32(backend, mm);
    if (bias) {
      const { meta } = broadcastMeta(mm.shape, bias.shape);
      addon.binary(BinaryOp.add, meta, values, f32(backend, bias), values); // in place: out aliases a exactly
    }
    const act = nativeAct[activation];
    if (act !== undefined) addon.unary(act, values, values);
    return mm;
  };

  const binaries: [string, number][] = [['Add', BinaryOp.add], ['Sub', BinaryOp.sub], ['Multiply', BinaryOp.mul],
    ['RealDiv', BinaryOp.div], ['Maximum', BinaryOp.max], ['Minimum', BinaryOp.min],
    ['SquaredDifference', BinaryOp.squaredDiff], ['Pow', BinaryOp.pow]];
  for (const [name, op] of binaries) kernels[name] = binaryKernel(name, op, addon);

  const unaries: [string, number][] = [['Exp', UnaryOp.exp], ['Log', UnaryOp.log], ['Tanh', UnaryOp.tanh],
    ['Sqrt', UnaryOp.sqrt], ['Rsqrt', UnaryOp.rsqrt], ['Neg', UnaryOp.neg], ['Square', UnaryOp.square],
    ['Relu', UnaryOp.relu], ['Sigmoid', UnaryOp.sigmoid], ['Abs', UnaryOp.abs], ['Reciprocal', UnaryOp.reciprocal],
    ['Erf', UnaryOp.erf], ['Log1p', UnaryOp.log1p]];
  for (const [name, op] of unaries) kernels[name] = unaryKernel(name, op, addon);

  kernels.Sum = reduceKernel('Sum', ReduceOp.sum, 'axis', addon);
  kernels.Mean = reduceKernel('Mean', ReduceOp.mean, 'axis', addon);
  kernels.Max = reduceKernel('Max', ReduceOp.max, 'reductionIndices', addon);
  kernels.Min = reduceKernel('Min', ReduceOp.min, 'axis', addon);

  const transposeCpu = cpu('Transpose');
  kernels.Transpose = (args) => {
    const { x } = args.inputs;
    const perm = args.attrs?.perm as number[];
    // TF.js accepts a repeated axis ([0, 0, 2]); the native kernel needs a permutation.
    const isPermutation = perm.length === x.shape.length && perm.every((p, i) => Number.isInteger(p) && p >= 0 &&
      p < perm.length && perm.indexOf(p) === i);
    if (!isF32(args.backend, x) || x.shape.length > 8 || !isPermutation) return transposeCpu(args);
    const res = outputArray(args.backend, util.sizeFromShape(x.shape));
    if (res.length > 0) addon.transpose(f32(args.backend, x), res, Int32Array.from(x.shape), Int32Array.from(perm));
    return out(args.backend, perm.map((p) => x.shape[p]), res);
  };

  const softmaxCpu = cpu('Softmax');
  kernels.Softmax = (args) => {
    const { logits } = args.inputs;
    const rank = logits.shape.length;
    const dim = args.attrs?.dim as number;
    if (!isF32(args.backend, logits) || rank === 0 || (dim !== -1 && dim !== rank - 1)) return softmaxCpu(args);
    const cols = logits.shape[rank - 1];
    const res = outputArray(args.backend, util.sizeFromShape(logits.shape));
    if (res.length > 0) addon.softmax(f32(args.backend, logits), res, res.length / cols, cols);
    return out(args.backend, logits.shape, res);
  };

  const gatherCpu = cpu('GatherV2');
  kernels.GatherV2 = (args) => {
    const { x, indices } = args.inputs;
    const backend = args.backend;
    const axis = util.parseAxisParam(args.attrs?.axis as number, x.shape)[0];
    if (!isF32(backend, x) || indices.dtype !== 'int32' || axis !== 0 || (args.attrs?.batchDims ?? 0) !== 0) return gatherCpu(args);
    const idx = i32(backend, indices);
    const rows = x.shape[0];
    for (let i = 0; i < idx.length; i++) if (idx[i] < 0 || idx[i] >= rows) return gatherCpu(args); // cpu reports the error
    const cols = util.sizeFromShape(x.shape.slice(1));
    const res = outputArray(backend, idx.length * cols);
    if (res.length > 0) addon.gatherRows(f32(backend, x), idx, res, idx.length, cols, rows);
    return out(backend, [...indices.shape, ...x.shape.slice(1)], res);
  };

  const segmentSumCpu = cpu('UnsortedSegmentSum');
  kernels.UnsortedSegmentSum = (args) => {
    const { x, segmentIds } = args.inputs;
    const backend = args.backend;
    const numSegments = args.attrs?.numSegments as number;
    if (!isF32(backend, x) || segmentIds.dtype !== 'int32' || segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
      return segmentSumCpu(args);
    }
    const cols = util.sizeFromShape(x.shape.slice(1));
    const res = outputArray(backend, numSegments * cols).fill(0); // scatter-add needs zeros
    if (res.length > 0) addon.scatterAddRows(f32(backend, x), i32(backend, segmentIds), res, x.shape[0], cols, numSegments);
    return out(backend, [numSegments, ...x.shape.slice(1)], res);
  };

  // Concat as typed-array copies (KV-cache growth while decoding; the cpu kernel copies element-wise).
  const concatCpu = cpu('Concat');
  kernels.Concat = (args) => {
    const tensors = args.inputs as unknown as TensorInfo[];
    const backend = args.backend;
    if (tensors.length < 2 || !isF32(backend, ...tensors)) return concatCpu(args);
    const first = tensors[0].shape;
    const axis = util.parseAxisParam(args.attrs?.axis as number, first)[0];
    const sameElsewhere = (s: number[]) => s.length === first.length && s.every((d, i) => i === axis || d === first[i]);
    // Mismatched shapes (the cpu kernel reports them) and empty inputs (it drops them) go to the cpu kernel.
    if (!tensors.every((t) => sameElsewhere(t.shape) && util.sizeFromShape(t.shape) > 0)) return concatCpu(args);
    const outer = util.sizeFromShape(first.slice(0, axis));
    const widths = tensors.map((t) => util.sizeFromShape(t.shape.slice(axis)));
    const total = widths.reduce((a, b) => a + b, 0);
    const res = outputArray(backend, outer * total);
    const srcs = tensors.map((t) => f32(backend, t));
    for (let o = 0; o < outer; o++) {
      let off = o * total;
      srcs.forEach((src, i) => {
        res.set(src.subarray(o * widths[i], (o + 1) * widths[i]), off);
        off += widths[i];
      });
    }
    const outShape = first.slice();
    outShape[axis] = tensors.reduce((a, t) => a + t.shape[axis], 0);
    return out(backend, outShape, res);
  };

  const addNCpu = cpu('AddN');
  kernels.AddN = (args) => {
    const tensors = args.inputs as unknown as TensorInfo[];
    const backend = args.backend;
    if (tensors.length < 2 || !isF32(backend, ...tensors)) return addNCpu(args);
    const n = tensors.length;
    const { meta } = broadcastMeta(tensors[0].shape, tensors[0].shape);
    const res = outputArray(backend, util.sizeFromShape(tensors[0].shape));
    addon.binary(BinaryOp.add, meta, f32(backend, tensors[0]), f32(backend, tensors[1]), res);
    for (let i = 2; i < n; i++) addon.binary(BinaryOp.add, meta, res, f32(backend, tensors[i]), res);
    return out(backend, tensors[0].shape, res);
  };

  return Object.entries(kernels).map(([kernelName, fn]) => ({
    kernelName,
    backendName,
    kernelFunc: fn as unknown as KernelFunc,
  }));
}
