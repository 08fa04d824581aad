import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend.ts';
import { DPO_METRICS, dpoLoss, namedMetrics } from './dpo-loss.ts';

// A hand-built batch of three preference pairs, β = 0.5.
//   pair:                   0      1      2
//   policy chosen  πc     -1.0   -2.0   -0.5
//   policy rejected πr    -1.5   -1.0   -3.0
//   ref chosen     rc     -1.2   -1.8   -1.0
//   ref rejected   rr     -1.4   -1.2   -2.0
//   Δ = (πc−rc) − (πr−rr) 0.3   -0.4    1.5
const pc = [-1.0, -2.0, -0.5];
const pr = [-1.5, -1.0, -3.0];
const rc = [-1.2, -1.8, -1.0];
const rr = [-1.4, -1.2, -2.0];
const beta = 0.5;
const delta = [0.3, -0.4, 1.5];
const N = 3;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function run(a: number[], b: number[], c: number[], d: number[], β: number) {
  const out = dpoLoss(tf.tensor1d(a), tf.tensor1d(b), tf.tensor1d(c), tf.tensor1d(d), β);
  const loss = out.loss.dataSync()[0];
  const metrics = namedMetrics(out.metrics.dataSync());
  tf.dispose([out.loss, out.metrics]);
  return { loss, metrics };
}

describe('dpoLoss (sigmoid DPO, Rafailov et al. eq. 7)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('loss = −mean log σ(β·Δ) on the hand-built case (0.601989)', () => {
    const expected = delta.reduce((s, x) => s - Math.log(sigmoid(beta * x)), 0) / N;
    expect(expected).toBeCloseTo(0.6019889744, 9); // the same number worked out independently
    expect(run(pc, pr, rc, rr, beta).loss).toBeCloseTo(expected, 5);
  });

  it('TRL metrics on the hand-built case', () => {
    const m = run(pc, pr, rc, rr, beta).metrics;
    // rewards/chosen = β(πc−rc) = [0.1, −0.1, 0.25]; rewards/rejected = β(πr−rr) = [−0.05, 0.1, −0.5]
    expect(m['rewards/chosen']).toBeCloseTo(0.25 / 3, 6);
    expect(m['rewards/rejected']).toBeCloseTo(-0.45 / 3, 6);
    // chosen > rejected in pairs 0 and 2, not in 1
    expect(m['rewards/accuracies']).toBeCloseTo(2 / 3, 6);
    // margins [0.15, −0.2, 0.75] = β·Δ
    expect(m['rewards/margins']).toBeCloseTo(0.7 / 3, 6);
    expect(m['logps/chosen']).toBeCloseTo(-3.5 / 3, 6);
    expect(m['logps/rejected']).toBeCloseTo(-5.5 / 3, 6);
    expect(Object.keys(m)).toEqual([...DPO_METRICS]);
  });

  it('gradients: ∂L/∂πc = −β·σ(−βΔ)/N, ∂L/∂πr = +β·σ(−βΔ)/N, and the reference mirrors them', () => {
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
      const out = dpoLoss(a as tf.Tensor1D, b as tf.Tensor1D, c as tf.Tensor1D, d as tf.Tensor1D, beta);
      out.metrics.dispose();
      return out.loss;
    })([tf.tensor1d(pc), tf.tensor1d(pr), tf.tensor1d(rc), tf.tensor1d(rr)]);
    const [dpc, dpr, drc, drr] = g.map((t) => Array.from(t.dataSync()));
    tf.dispose(g);
    const expected = delta.map((x) => (-beta * sigmoid(-beta * x)) / N);
    // worked out by hand beforehand: [−0.077095, −0.091639, −0.053470]
    expect(expected[0]).toBeCloseTo(-0.07709502578, 9);
    expected.forEach((e, i) => {
      expect(dpc[i]).toBeCloseTo(e, 6);
      expect(dpr[i]).toBeCloseTo(-e, 6);
      expect(drc[i]).toBeCloseTo(-e, 6);
      expect(drr[i]).toBeCloseTo(e, 6);
    });
    // the pair the policy gets most wrong (Δ < 0) pulls hardest
    expect(Math.abs(dpc[1])).toBeGreaterThan(Math.abs(dpc[0]));
  });

  it('policy = reference ⇒ loss ln 2, rewards 0, accuracy 0 (ties are not wins, as in TRL)', () => {
    const { loss, metrics } = run(pc, pr, pc, pr, beta);
    expect(loss).toBeCloseTo(Math.LN2, 6);
    expect(metrics['rewards/chosen']).toBe(0);
    expect(metrics['rewards/margins']).toBe(0);
    expect(metrics['rewards/accuracies']).toBe(0);
  });

  it('stays finite at huge margins: Δ = +1000 ⇒ ≈ 0, Δ = −1000 ⇒ ≈ β·1000', () => {
    expect(run([0], [-1000], [0], [0], 0.1).loss).toBeCloseTo(0, 6);
    expect(run([-1000], [0], [0], [0], 0.1).loss).toBeCloseTo(100, 3);
  });

  it('leaves no tensors behind beyond the two it returns', () => {
    const inputs = [pc, pr, rc, rr].map((x) => tf.tensor1d(x)) as tf.Tensor1D[];
    const before = tf.memory().numTensors;
    const out = dpoLoss(inputs[0], inputs[1], inputs[2], inputs[3], beta);
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose([out.loss, out.metrics, ...inputs]);
  });
});
