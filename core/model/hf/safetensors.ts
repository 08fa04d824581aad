import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../../util/errors.ts';

/**
 * Safetensors files (the Hugging Face weight format): 8 bytes little-endian header length N, N
 * bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then raw
 * little-endian tensor bytes. We read the header once and each tensor on demand with a
 * positioned read, so importing a 0.5B model holds one tensor at a time, never the whole file.
 */

const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
export type SafeDtype = keyof typeof DTYPE_BYTES;

const Entry = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().min(0)),
  data_offsets: z.tuple([z.number().int().min(0), z.number().int().min(0)]),
});

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte offset of the data in the file. */
  begin: number;
  byteLength: number;
  file: string;
}

/** The header of one .safetensors file; tensors read lazily. */
export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();

  constructor(readonly file: string) {
    if (!existsSync(file)) throw new UserError(`${file}: missing`);
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    try {
      if (size < 8) throw new UserError(`${file}: not a safetensors file (${size} bytes)`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const n = Number(lenBuf.readBigUInt64LE(0));
      if (n <= 0 || 8 + n > size || n > 100_000_000) throw new UserError(`${file}: bad safetensors header length ${n} (file has ${size} bytes)`);
      const hdr = Buffer.alloc(n);
      readSync(fd, hdr, 0, n, 8);
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(hdr.toString('utf8')) as Record<string, unknown>;
      } catch (e) {
        throw new UserError(`${file}: safetensors header is not JSON (${(e as Error).message})`);
      }
      for (const [name, raw] of Object.entries(json)) {
        if (name === '__metadata__') continue;
        const p = Entry.safeParse(raw);
        if (!p.success) throw new UserError(`${file}: tensor ${name}: ${p.error.issues[0].path.join('.')}: ${p.error.issues[0].message}`);
        const [b, e] = p.data.data_offsets;
        if (e < b || 8 + n + e > size) throw new UserError(`${file}: tensor ${name}: data_offsets [${b}, ${e}] outside the file`);
        this.tensors.set(name, { name, dtype: p.data.dtype, shape: p.data.shape, begin: 8 + n + b, byteLength: e - b, file });
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** A model's weights across one file or the shards named by model.safetensors.index.json. */
export class SafetensorsStore {
  readonly tensors = new Map<string, TensorInfo>();

  private constructor(files: SafetensorsFile[]) {
    for (const f of files) for (const [k, v] of f.tensors) this.tensors.set(k, v);
  }

  /** Opens `dir`/model.safetensors, or the shards its index names. */
  static open(dir: string): SafetensorsStore {
    const single = join(dir, 'model.safetensors');
    const index = join(dir, 'model.safetensors.index.json');
    if (existsSync(single)) return new SafetensorsStore([new SafetensorsFile(single)]);
    if (!existsSync(index)) throw new UserError(`${dir}: no model.safetensors or model.safetensors.index.json (only safetensors weights are read; convert .bin with the original framework)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(index, 'utf8'));
    } catch (e) {
      throw new UserError(`${index}: not valid JSON (${(e as Error).message})`);
    }
    const idx = z.object({ weight_map: z.record(z.string(), z.string()) }).safeParse(parsed);
    if (!idx.success) throw new UserError(`${index}: weight_map: ${idx.error.issues[0].message}`);
    const shards = [...new Set(Object.values(idx.data.weight_map))];
    const store = new SafetensorsStore(shards.map((s) => new SafetensorsFile(join(dir, s))));
    for (const [name, shard] of Object.entries(idx.data.weight_map)) {
      const t = store.tensors.get(name);
      if (!t) throw new UserError(`${index}: tensor ${name} is mapped to ${shard}, which does not contain it`);
    }
    return store;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new UserError(`missing tensor ${name} (the checkpoint has ${this.tensors.size} tensors, e.g. ${[...this.tensors.keys()].slice(0, 3).join(', ')})`);
    return t;
  }

  /** Reads one tensor as float32, checking its shape when `shape` is given. */
  read(name: string, shape?: number[]): Float32Array {
    const t = this.info(name);
    if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])))
      throw new UserError(`${t.file}: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    return readTensor(t);
  }
}

/** Reads and converts one tensor from its file (one positioned read of exactly its bytes). */
export function readTensor(t: TensorInfo): Float32Array {
  const width = DTYPE_BYTES[t.dtype as SafeDtype];
  if (!width) throw new UserError(`${t.file}: tensor ${t.name} has dtype ${t.dtype}; readable dtypes are F32, F16, BF16`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n * width !== t.byteLength) throw new UserError(`${t.file}: tensor ${t.name}: ${t.byteLength} bytes for shape [${t.shape}] of ${t.dtype}`);
  const buf = Buffer.alloc(t.byteLength);
  const fd = openSync(t.file, 'r');
  try {
    let got = 0;
    while (got < t.byteLength) {
      const r = readSync(fd, buf, got, t.byteLength - got, t.begin + got);
      if (r === 0) throw new UserError(`${t.file}: tensor ${t.name}: file ends early`);
      got += r;
    }
  } finally {
    closeSync(fd);
  }
  const out = new Float32Array(n);
  if (t.dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(i * 4);
  } else if (t.dtype === 'BF16') {
    // bf16 is the top half of a float32: shift into place.
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = buf.readUInt16LE(i * 2) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(buf.readUInt16LE(i * 2));
  }
  return out;
}

/** IEEE 754 binary16 → number (subnormals, inf and NaN included). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Writes float32 tensors as one safetensors file, streaming: the header is built from the shapes,
 * then each tensor is fetched and written in turn (so the writer, too, holds one at a time).
 * Written to a temp file and renamed, so a failed write leaves no half file.
 */
export function writeSafetensors(path: string, entries: Array<{ name: string; shape: number[] }>, fetch: (name: string) => Float32Array, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const e of entries) {
    const bytes = e.shape.reduce((a, b) => a * b, 1) * 4;
    header[e.name] = { dtype: 'F32', shape: e.shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  // Pad to 8 bytes so the data is aligned (what the reference writer does).
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len);
    writeSync(fd, Buffer.from(json, 'utf8'));
    for (const e of entries) {
      const data = fetch(e.name);
      const n = e.shape.reduce((a, b) => a * b, 1);
      if (data.length !== n) throw new Error(`writeSafetensors: ${e.name} has ${data.length} values, shape [${e.shape}] needs ${n}`);
      // Float32Array bytes are little-endian on every platform Node runs on here.
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}
