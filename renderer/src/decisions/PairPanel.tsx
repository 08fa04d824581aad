import { diffWords } from 'diff';
import { useState } from 'react';
import type { DecisionTable } from '../../../core/analysis/decisions.ts';
import { GradeChip } from '../outputs/GradeChip.tsx';
import { useDecisions } from './store.ts';
import { markPair, openPair, updateView } from './usecases.ts';
import type { DecisionViewState } from './view-state.ts';

/** One pair in full: every column's answer and rationale, a word diff of two of them, and the human review form. */
export function PairPanel({ table, view }: { table: DecisionTable; view: DecisionViewState }) {
  const detail = useDecisions((s) => s.detail);
  const marks = useDecisions((s) => s.marks);
  const [note, setNote] = useState('');
  if (!detail || detail.pair_id !== view.selected) return null;
  const mark = marks[detail.pair_id];
  const p = detail.pair as { query?: string; title?: string; label?: string; brand?: string; query_freq?: string; intent?: string };
  const [a, b] = view.compare ?? [view.columns[0], view.columns[1]];
  const ra = a ? detail.answers[a]?.rationale ?? detail.answers[a]?.raw : undefined;
  const rb = b ? detail.answers[b]?.rationale ?? detail.answers[b]?.raw : undefined;
  const variant = (id: string) => table.columns.find((c) => c.id === id)?.variant ?? id;
  return (
    <div className="pair-panel" data-testid="pair-panel">
      <div className="pair-head">
        <b>{p.query}</b> → {p.title}
        <button className="close" onClick={() => void openPair(undefined)} title="close">
          ✕
        </button>
      </div>
      <div className="muted">
        {detail.pair_id} · gold <GradeChip label={p.label ?? ''} labels={table.labels} /> {p.query_freq ? `· ${p.query_freq}` : ''} {p.intent ? `· ${p.intent}` : ''} {p.brand ? `· ${p.brand}` : ''}
      </div>
      <div className="review-form" data-testid="review-form">
        <span>Human grade:</span>
        {table.labels.map((l, i) => (
          <button key={l} className={`grade-pick ${mark?.label === l ? 'on' : ''}`} title={`key ${i + 1}`} onClick={() => void markPair(detail.pair_id, { label: l, ...(mark?.note ? { note: mark.note } : {}) })}>
            {i + 1} {l}
          </button>
        ))}
        {mark && (
          <button onClick={() => void markPair(detail.pair_id, null)} title="remove the mark">
            clear
          </button>
        )}
        <input aria-label="Review note" placeholder={mark?.note ?? 'a note for this pair'} value={note} onChange={(e) => setNote(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && note && (void markPair(detail.pair_id, { ...(mark?.label ? { label: mark.label } : {}), note }), setNote(''))} />
        {mark && (
          <div className="mark" data-testid="mark">
            marked {mark.label ? <GradeChip label={mark.label} labels={table.labels} /> : ''} {mark.note ? `“${mark.note}”` : ''}
          </div>
        )}
      </div>
      <table className="answers">
        <tbody>
          {view.columns.map((c) => {
            const ans = detail.answers[c];
            return (
              <tr key={c}>
                <th>{variant(c)}</th>
                <td>{ans ? ans.label ? <GradeChip label={ans.label} labels={table.labels} /> : <span className="unparseable">unparseable</span> : <span className="muted">–</span>}</td>
                <td className="muted">{ans?.label && ans.probs?.[ans.label] !== undefined ? ans.probs[ans.label].toFixed(2) : ''}</td>
                <td className="rationale">{ans?.rationale ?? ans?.raw ?? ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="diff-head">
        Word diff:
        <select aria-label="Diff from" value={a} onChange={(e) => updateView({ compare: [e.target.value, b] })}>
          {view.columns.map((c) => (
            <option key={c} value={c}>
              {variant(c)}
            </option>
          ))}
        </select>
        →
        <select aria-label="Diff to" value={b} onChange={(e) => updateView({ compare: [a, e.target.value] })}>
          {view.columns.map((c) => (
            <option key={c} value={c}>
              {variant(c)}
            </option>
          ))}
        </select>
      </div>
      <div className="diff" data-testid="rationale-diff">
        {ra === undefined && rb === undefined ? (
          <span className="muted">neither column wrote a rationale for this pair</span>
        ) : (
          diffWords(ra ?? '', rb ?? '').map((part, i) => (
            <span key={i} className={part.added ? 'ins' : part.removed ? 'del' : ''}>
              {part.value}
            </span>
          ))
        )}
      </div>
    </div>
  );
}
