import { gradeColor } from './grades.ts';

/** A grade as a chip coloured on its scale (best → worst); `wrong` outlines a grade that is not gold. */
export function GradeChip({ label, labels, wrong = false }: { label: string; labels: readonly string[]; wrong?: boolean }) {
  return (
    <span className={`grade-chip${wrong ? ' wrong' : ''}`} style={{ background: gradeColor(label, labels) }}>
      {label}
    </span>
  );
}
