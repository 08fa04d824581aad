/** Learning-rate schedule: linear warmup from 0 to `lr`, then cosine decay to `lr·minLrRatio`. */
export interface ScheduleConfig {
  lr: number;
  warmup: number;
  steps: number;
  minLrRatio: number;
}

/** Rate for 0-based `step`. Warmup reaches the peak at step = warmup−1 (never a zero-rate step). */
export function lrAt(step: number, c: ScheduleConfig): number {
  if (step < c.warmup) return (c.lr * (step + 1)) / c.warmup;
  const span = Math.max(1, c.steps - c.warmup);
  const t = Math.min(1, (step - c.warmup) / span);
  const min = c.lr * c.minLrRatio;
  return min + 0.5 * (c.lr - min) * (1 + Math.cos(Math.PI * t));
}
