/**
 * The 'lref-native' backend object: the tfjs cpu backend plus a pool of the Float32Arrays its
 * native kernels produce.
 *
 * A training step makes a few hundred multi-MB output arrays. Fresh ones cost twice: V8 zero-fills
 * each, and the ArrayBuffers are freed only by garbage collections, which their external memory
 * triggers several times a step (~10% of a step in a profile). Here the array of a tensor whose
 * data is released goes back to a pool and is handed to the next kernel output of the same length.
 *
 * Recycling is only safe for arrays nobody else can still see, so an array is pooled only when
 *  - the pool made it (never an array a caller passed to tf.tensor),
 *  - it was never read out (dataSync/data/arraySync hand out the backing array itself on cpu),
 *  - it backs exactly one tensor and no view of it backs another (the cpu slice kernel returns
 *    subarray views) — checked whenever the backend stores an array.
 * An array that fails any test is simply left to the garbage collector.
 *
 * Buffers are pooled by size class (lengths rounded up to 2 significant bits, ≤ 25% slack) and
 * handed out as a view of the requested length: batches padded to their longest row change shape
 * every step, and exact-length pooling missed 87% of requests in a label SFT run.
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendValues, DataId, DataType } from '@tensorflow/tfjs-core';

/**
 * Lengths below this are cheap to allocate and not worth tracking. Low on purpose: decoding one
 * token makes ~40 small outputs (a few hundred floats) per step, and fresh ArrayBuffers for them
 * cost ~15% of a one-row decode in allocation and garbage collection (tiny preset, CPU time).
 */
const MIN_POOLED = 64;
/** Upper bound on idle pooled memory (floats): 128 M floats = 512 MB, room for the size classes of a few steps. */
const MAX_IDLE_FLOATS = 128 << 20;

/** The pooled capacity for a request of n floats: n rounded up to its top 2 bits. */
export function sizeClass(n: number): number {
  const shift = Math.max(0, 31 - Math.clz32(n) - 2);
  return Math.ceil(n / 2 ** shift) * 2 ** shift;
}

export class PooledCpuBackend extends MathBackendCPU {
  /** Idle buffers by capacity in floats. */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private idleFloats = 0;

  constructor(private readonly maxIdleFloats = MAX_IDLE_FLOATS) {
    super();
  }
  /** Arrays made by alloc() that may still be recycled, by their buffer (to spot views). */
  private readonly owned = new WeakMap<ArrayBufferLike, Float32Array>();
  /** Owned arrays currently stored under a data id. */
  private readonly stored = new WeakSet<Float32Array>();

  /** A Float32Array of length n for a kernel output: recycled (contents undefined) or new. */
  alloc(n: number): Float32Array {
    if (n < MIN_POOLED) return new Float32Array(n);
    const capacity = sizeClass(n);
    const idle = this.free.get(capacity)?.pop();
    if (idle) this.idleFloats -= capacity;
    const a = new Float32Array(idle ?? new ArrayBuffer(capacity * 4), 0, n);
    this.owned.set(a.buffer, a);
    return a;
  }

  /** Stats for tests: arrays and floats sitting in the pool. */
  poolStats(): { arrays: number; floats: number } {
    let arrays = 0;
    for (const l of this.free.values()) arrays += l.length;
    return { arrays, floats: this.idleFloats };
  }

  private disown(values: Float32Array): void {
    this.owned.delete(values.buffer);
    this.stored.delete(values);
  }

  /** Called for every array the backend is about to store. */
  private track(values: BackendValues | null | undefined): void {
    if (!(values instanceof Float32Array)) return;
    const owner = this.owned.get(values.buffer);
    if (!owner) return;
    if (owner !== values || this.stored.has(owner)) this.disown(owner); // a view, or a second tensor on it
    else this.stored.add(owner);
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    this.track(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.track(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): BackendValues {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    if (values instanceof Float32Array && this.owned.get(values.buffer) === values) this.disown(values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    // (has() first: DataStorage.get of an unknown id would try to move it in from another backend)
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values instanceof Float32Array && !this.data.has(dataId)) this.recycle(values);
    return released;
  }

  private recycle(values: Float32Array): void {
    if (this.owned.get(values.buffer) !== values || !this.stored.has(values)) return;
    this.stored.delete(values);
    this.owned.delete(values.buffer);
    const capacity = values.buffer.byteLength / 4;
    if (capacity > this.maxIdleFloats) return;
    this.evictFor(capacity);
    const list = this.free.get(capacity) ?? [];
    this.free.delete(capacity); // re-inserted last: the Map's order is least recently used first
    this.free.set(capacity, list);
    list.push(values.buffer as ArrayBuffer);
    this.idleFloats += capacity;
  }

  /** Frees idle buffers of the least recently used sizes until `capacity` more floats fit. */
  private evictFor(capacity: number): void {
    for (const [size, list] of this.free) {
      if (this.idleFloats + capacity <= this.maxIdleFloats) return;
      while (list.length > 0 && this.idleFloats + capacity > this.maxIdleFloats) {
        list.pop();
        this.idleFloats -= size;
      }
      if (list.length === 0) this.free.delete(size);
    }
  }

  override dispose(): void {
    this.free.clear();
    this.idleFloats = 0;
    super.dispose();
  }
}

/** An output array for a native kernel: from the backend's pool when it has one. */
export function outputArray(backend: MathBackendCPU, n: number): Float32Array {
  return backend instanceof PooledCpuBackend ? backend.alloc(n) : new Float32Array(n);
}
