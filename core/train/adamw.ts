import * as tf from '@tensorflow/tfjs-core';
import { adamwStep, onNative } from '../model/native-ops.ts';

export interface AdamWConfig {
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  /** Decay the embeddings too (nanoGPT does; we default to no, see TrainConfig). */
  decayEmbeddings: boolean;
}

/**
 * AdamW (Loshchilov & Hutter): Adam moments plus weight decay applied to the weights directly,
 * not through the gradient. Decay only touches matrices: LayerNorm gains and biases (rank 1) are
 * never decayed, embeddings only when asked. Moments live in tf.Variables so checkpoints can
 * save and restore them bit for bit.
 */
export class AdamW {
  /** Number of updates applied so far (Adam's t). */
  t = 0;
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  private readonly decayed = new Map<string, boolean>();

  constructor(
    private readonly params: Map<string, tf.Variable>,
    readonly config: AdamWConfig,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      const isEmbedding = name === 'tok_emb' || name === 'pos_emb';
      this.decayed.set(name, p.rank >= 2 && (config.decayEmbeddings || !isEmbedding));
    }
  }

  /** Whether `name` gets weight decay (exposed for tests and logs). */
  isDecayed(name: string): boolean {
    return this.decayed.get(name) ?? false;
  }

  /**
   * One update. `grads` by parameter name; `gradScale` (the clip factor, a number or a scalar
   * tensor) multiplies every gradient, so clipping costs no extra pass over the gradients.
   * On 'lref-native' each parameter's update is one fused kernel (~10 TF.js ops otherwise).
   */
  apply(grads: Map<string, tf.Tensor>, lr: number, gradScale?: tf.Scalar | number): void {
    this.t += 1;
    const [b1, b2] = this.config.betas;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    // The fused native update takes the scale as a number: read it once per step (a free sync on
    // the CPU-memory native backend). Other backends keep the tensor (no sync mid-step).
    const scaleNumber = !onNative() ? 1 : typeof gradScale === 'number' ? gradScale : (gradScale?.dataSync()[0] ?? 1);
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads.get(name);
        if (!g0) continue; // a parameter the loss does not reach (e.g. unused head) stays put
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const fused = adamwStep(p, m, v, g0, {
          lr, beta1: b1, beta2: b2, eps: this.config.eps, step: this.t, gradScale: scaleNumber,
          weightDecay: this.decayed.get(name) ? this.config.weightDecay : 0,
        });
        if (fused) continue;
        const g = gradScale === undefined ? g0 : tf.mul(g0, gradScale);
        const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        m.assign(m1);
        v.assign(v1);
        // p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + eps)
        const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), this.config.eps);
        const upd = tf.mul(tf.div(m1, denom), lr / bc1);
        const decayed = this.decayed.get(name) && this.config.weightDecay > 0 ? tf.mul(p, 1 - lr * this.config.weightDecay) : p;
        p.assign(tf.sub(decayed, upd));
      }
    });
  }

  /** Moment tensors in a fixed order (parameter order), for checkpoints. */
  stateEntries(): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    for (const name of this.params.keys()) {
      out.push([`m/${name}`, this.m.get(name)!], [`v/${name}`, this.v.get(name)!]);
    }
    return out;
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    this.m.clear();
    this.v.clear();
  }
}
