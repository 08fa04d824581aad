import type { LabelScheme } from '../data/labels.ts';

/** The most frequent label (ties → the earlier label in scheme order): the floor every model must beat. */
export function majorityLabel(labels: readonly string[], scheme: LabelScheme): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  let best = scheme.labels[0];
  for (const l of scheme.labels) if ((counts.get(l) ?? 0) > (counts.get(best) ?? 0)) best = l;
  return best;
}
