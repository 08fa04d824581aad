/** Grade colours on one ordered scale (best → worst), shared by every view that shows a grade. */
const SCALE = ['#1a7f37', '#4fa34f', '#b7a21b', '#d9822b', '#c0392b'];

export function gradeColor(label: string, labels: readonly string[]): string {
  const i = labels.indexOf(label);
  if (i < 0) return '#888';
  if (labels.length === 1) return SCALE[0];
  return SCALE[Math.round((i / (labels.length - 1)) * (SCALE.length - 1))];
}

export const LREF5 = ['Exact', 'Significant', 'Marginal', 'Trivial', 'Irrelevant'];
