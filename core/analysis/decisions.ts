import { z } from 'zod';

/**
 * The decision matrix: one row per pair, one column per (run, variant), a cell the predicted grade.
 * Column-oriented typed arrays, so every filter is a tight loop over 100K rows (a few ms) and the
 * same code runs in the renderer, in tests and in the benchmark. Pure: no I/O, no DOM.
 */
export interface PairRow {
  pair_id: string;
  query: string;
  title: string;
  band?: string;
  intent?: string;
}

export interface DecisionColumn {
  /** "run/variant", stable across views (a URL names columns by it) */
  id: string;
  run: string;
  variant: string;
  /** grade index into `labels` per row; UNPARSEABLE or MISSING otherwise */
  pred: Int8Array;
  /** the predicted grade's probability where the variant reports one, else NaN */
  prob: Float32Array;
}

export interface DecisionTable {
  /** grade names, best → worst: a smaller index is a higher grade */
  labels: string[];
  rows: PairRow[];
  gold: Int8Array;
  columns: DecisionColumn[];
}

export const UNPARSEABLE = -1;
export const MISSING = -2;

/** How a pair's grade may move from one column to another (a `changed` filter). */
export const CHANGE_KINDS = ['any', 'fixed', 'broken', 'up', 'down'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** The view's filters; all that are set must hold (AND). Columns are named by id. */
export const Filters = z.object({
  /** wrong in any chosen column (or in `focus` when set) */
  errors: z.boolean().optional(),
  /** the chosen columns do not all agree */
  different: z.boolean().optional(),
  /** how the prediction moved from one column to another */
  changed: z.object({ from: z.string(), to: z.string(), kind: z.enum(CHANGE_KINDS) }).optional(),
  /** two or more grades from gold in any chosen column (or `focus`) */
  offBy2: z.boolean().optional(),
  /** graded higher than gold (the optimistic bias) in any chosen column (or `focus`) */
  optimistic: z.boolean().optional(),
  gold: z.array(z.string()).optional(),
  /** a column's predicted grade is one of these ("unparseable" names outputs with no grade) */
  pred: z.object({ column: z.string(), labels: z.array(z.string()) }).optional(),
  /** a second column's predicted grade, for a transition-matrix cell */
  pred2: z.object({ column: z.string(), labels: z.array(z.string()) }).optional(),
  band: z.array(z.string()).optional(),
  intent: z.array(z.string()).optional(),
  /** text in query or title (case-insensitive); a regex when `regex` */
  search: z.string().optional(),
  regex: z.boolean().optional(),
  /** the column that errors / offBy2 / optimistic look at; all chosen columns when unset */
  focus: z.string().optional(),
});
export type Filters = z.infer<typeof Filters>;

export type FilterKey = keyof Filters;

const wrong = (p: number, g: number) => p !== g && p !== MISSING && g >= 0;

/** Which rows pass `filters` over the chosen columns, in table order. Throws on a bad regex. */
export function filterRows(t: DecisionTable, chosen: readonly string[], filters: Filters): Int32Array {
  const cols = columnsById(t, chosen);
  const focus = filters.focus ? columnsById(t, [filters.focus]) : cols;
  const test = rowTest(t, cols, focus, filters);
  const out = new Int32Array(t.rows.length);
  let n = 0;
  for (let i = 0; i < t.rows.length; i++) if (test(i)) out[n++] = i;
  return out.slice(0, n);
}

function rowTest(t: DecisionTable, cols: DecisionColumn[], focus: DecisionColumn[], f: Filters): (i: number) => boolean {
  const tests: ((i: number) => boolean)[] = [];
  const g = t.gold;
  const need = TOGGLES.reduce((m, k, bit) => (f[k] ? m | (1 << bit) : m), 0);
  if (need) {
    const flags = toggleFlags(t, cols, focus);
    tests.push((i) => (flags[i] & need) === need);
  }
  if (f.changed) {
    const flags = changeFlags(t, f.changed.from, f.changed.to);
    const bit = 1 << CHANGE_KINDS.indexOf(f.changed.kind);
    tests.push((i) => (flags[i] & bit) !== 0);
  }
  if (f.gold?.length) {
    const want = labelSet(t, f.gold);
    tests.push((i) => want.has(g[i]));
  }
  for (const p of [f.pred, f.pred2]) {
    if (!p) continue;
    const [c] = columnsById(t, [p.column]);
    const want = labelSet(t, p.labels);
    tests.push((i) => want.has(c.pred[i]));
  }
  if (f.band?.length) {
    const want = new Set(f.band);
    tests.push((i) => want.has(t.rows[i].band ?? ''));
  }
  if (f.intent?.length) {
    const want = new Set(f.intent);
    tests.push((i) => want.has(t.rows[i].intent ?? ''));
  }
  if (f.search) {
    if (f.regex) {
      const re = new RegExp(f.search, 'i');
      tests.push((i) => re.test(t.rows[i].query) || re.test(t.rows[i].title));
    } else {
      const needle = f.search.toLowerCase();
      const text = searchText(t);
      tests.push((i) => text[i].includes(needle));
    }
  }
  return (i) => {
    for (const test of tests) if (!test(i)) return false;
    return true;
  };
}

/**
 * Per-table caches of what every filter click would otherwise recompute over all rows: the toggle
 * predicates per column choice, the change kinds per column pair, the lower-cased search text.
 * Tables are immutable once built, so an entry never goes stale; a few dozen entries are kept.
 */
const caches = new WeakMap<DecisionTable, Map<string, Uint8Array | string[]>>();
function cached<T extends Uint8Array | string[]>(t: DecisionTable, key: string, make: () => T): T {
  let m = caches.get(t);
  if (!m) caches.set(t, (m = new Map()));
  let v = m.get(key) as T | undefined;
  if (!v) {
    if (m.size >= 32) m.clear();
    m.set(key, (v = make()));
  }
  return v;
}

/** Query and title, lower-cased, per row: what a plain-text search looks in. */
function searchText(t: DecisionTable): string[] {
  return cached(t, 'search', () => t.rows.map((r) => `${r.query}\u0000${r.title}`.toLowerCase()));
}

/**
 * Builds what the first click on a filter would otherwise build (search text, toggle and change
 * flags for these columns), so that click costs what every later one does. The renderer calls it
 * when the browser is idle.
 */
export function warmFilters(t: DecisionTable, chosen: readonly string[], compare?: readonly [string, string]): void {
  searchText(t);
  const cols = columnsById(t, chosen);
  toggleFlags(t, cols, cols);
  if (compare) changeFlags(t, compare[0], compare[1]);
}

/** Bit k (TOGGLES order) set where toggle k holds for the row over these columns. */
function toggleFlags(t: DecisionTable, cols: DecisionColumn[], focus: DecisionColumn[]): Uint8Array {
  const key = `toggles:${cols.map((c) => c.id).join(',')}|${focus.map((c) => c.id).join(',')}`;
  return cached(t, key, () => {
    const g = t.gold;
    const out = new Uint8Array(t.rows.length);
    for (let i = 0; i < out.length; i++) {
      let bits = 0;
      for (const c of focus) {
        const p = c.pred[i];
        if (wrong(p, g[i])) bits |= 1;
        if (p >= 0 && g[i] >= 0) {
          if (Math.abs(p - g[i]) >= 2) bits |= 4;
          if (p < g[i]) bits |= 8;
        }
      }
      for (const c of cols) if (c.pred[i] !== cols[0].pred[i]) bits |= 2;
      out[i] = bits;
    }
    return out;
  });
}

/** Bit k (CHANGE_KINDS order) set where the row's grade moved from `from` to `to` as kind k says. */
function changeFlags(t: DecisionTable, from: string, to: string): Uint8Array {
  const [a, b] = columnsById(t, [from, to]);
  return cached(t, `changes:${from}→${to}`, () => {
    const out = new Uint8Array(t.rows.length);
    for (let i = 0; i < out.length; i++) {
      let bits = 0;
      for (let k = 0; k < CHANGE_KINDS.length; k++) if (changedAs(CHANGE_KINDS[k], a.pred[i], b.pred[i], t.gold[i])) bits |= 1 << k;
      out[i] = bits;
    }
    return out;
  });
}

function labelSet(t: DecisionTable, names: readonly string[]): Set<number> {
  return new Set(names.map((n) => (n === 'unparseable' ? UNPARSEABLE : t.labels.indexOf(n))));
}

export function columnsById(t: DecisionTable, ids: readonly string[]): DecisionColumn[] {
  return ids.map((id) => {
    const c = t.columns.find((x) => x.id === id);
    if (!c) throw new Error(`no column "${id}" (have: ${t.columns.map((x) => x.id).join(', ')})`);
    return c;
  });
}

/** Each toggle filter's count if it were switched on with the others as they are: one pass over the rows. */
export const TOGGLES = ['errors', 'different', 'offBy2', 'optimistic'] as const;
export function toggleCounts(t: DecisionTable, chosen: readonly string[], filters: Filters): Record<(typeof TOGGLES)[number] | 'all', number> {
  const base: Filters = { ...filters, errors: false, different: false, offBy2: false, optimistic: false };
  const rows = filterRows(t, chosen, base);
  const cols = columnsById(t, chosen);
  const flags = toggleFlags(t, cols, filters.focus ? columnsById(t, [filters.focus]) : cols);
  const on = TOGGLES.reduce((m, k, bit) => (filters[k] ? m | (1 << bit) : m), 0);
  const counts = TOGGLES.map(() => 0);
  for (const i of rows) {
    const f = flags[i];
    for (let k = 0; k < TOGGLES.length; k++) {
      const need = on | (1 << k); // toggle k switched on, with those already on
      if ((f & need) === need) counts[k]++;
    }
  }
  return { all: rows.length, ...Object.fromEntries(TOGGLES.map((k, j) => [k, counts[j]])) } as Record<(typeof TOGGLES)[number] | 'all', number>;
}

/** Whether a pair's grade moved from `pa` (one column) to `pb` (another) in the way `kind` names. */
function changedAs(kind: ChangeKind, pa: number, pb: number, gold: number): boolean {
  if (kind === 'any') return pa !== pb;
  if (kind === 'fixed') return pa !== gold && pb === gold;
  if (kind === 'broken') return pa === gold && pb !== gold;
  if (pa < 0 || pb < 0) return false;
  return kind === 'up' ? pb < pa : pb > pa; // up the grade scale = a better grade = a smaller index
}

/** How many rows each `changed` kind keeps between two columns, with the other filters as they are: one pass. */
export function changeCounts(t: DecisionTable, chosen: readonly string[], filters: Filters, from: string, to: string): Record<ChangeKind, number> {
  const flags = changeFlags(t, from, to);
  const counts = CHANGE_KINDS.map(() => 0);
  for (const i of filterRows(t, chosen, { ...filters, changed: undefined })) {
    const f = flags[i];
    for (let k = 0; k < CHANGE_KINDS.length; k++) if (f & (1 << k)) counts[k]++;
  }
  return Object.fromEntries(CHANGE_KINDS.map((k, j) => [k, counts[j]])) as Record<ChangeKind, number>;
}

export type SortKey = { by: 'table' } | { by: 'gold' } | { by: 'disagreement' } | { by: 'column'; column: string } | { by: 'prob'; column: string };

/** Sorts row indexes (a copy); ties keep table order. */
export function sortRows(t: DecisionTable, rows: Int32Array, chosen: readonly string[], key: SortKey, desc = false): Int32Array {
  if (key.by === 'table') return desc ? rows.slice().reverse() : rows;
  let score: (i: number) => number;
  if (key.by === 'gold') score = (i) => t.gold[i];
  else if (key.by === 'column') {
    const [c] = columnsById(t, [key.column]);
    score = (i) => c.pred[i];
  } else if (key.by === 'prob') {
    const [c] = columnsById(t, [key.column]);
    score = (i) => (Number.isNaN(c.prob[i]) ? -1 : c.prob[i]);
  } else {
    const cols = columnsById(t, chosen);
    // distinct grades first, then how far apart they are: the most disputed pairs on top
    score = (i) => {
      const seen = new Set<number>();
      let lo = 99;
      let hi = -99;
      for (const c of cols) {
        const p = c.pred[i];
        seen.add(p);
        if (p >= 0) {
          lo = Math.min(lo, p);
          hi = Math.max(hi, p);
        }
      }
      return seen.size * 100 + (hi >= lo ? hi - lo : 0);
    };
    desc = !desc;
  }
  const idx = Array.from(rows);
  const s = new Float64Array(t.rows.length);
  for (const i of idx) s[i] = score(i);
  idx.sort((a, b) => (desc ? s[b] - s[a] : s[a] - s[b]) || a - b);
  return Int32Array.from(idx);
}

/** counts[gold][pred] for one column over the given rows; the last column counts unparseable outputs. */
export function confusion(t: DecisionTable, column: string, rows: Int32Array): number[][] {
  const [c] = columnsById(t, [column]);
  const n = t.labels.length;
  const m = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0));
  for (const i of rows) {
    const g = t.gold[i];
    const p = c.pred[i];
    if (g < 0 || p === MISSING) continue;
    m[g][p === UNPARSEABLE ? n : p]++;
  }
  return m;
}

/** counts[pred in a][pred in b]: where one variant's decisions went in another (last index: unparseable). */
export function transition(t: DecisionTable, from: string, to: string, rows: Int32Array): number[][] {
  const [a, b] = columnsById(t, [from, to]);
  const n = t.labels.length;
  const m = Array.from({ length: n + 1 }, () => new Array<number>(n + 1).fill(0));
  for (const i of rows) {
    const pa = a.pred[i];
    const pb = b.pred[i];
    if (pa === MISSING || pb === MISSING) continue;
    m[pa === UNPARSEABLE ? n : pa][pb === UNPARSEABLE ? n : pb]++;
  }
  return m;
}

/**
 * The wire form of a table, as the contract carries it: rows column by column and each variant's
 * grades and probabilities as base64 of their typed arrays, so a 100K-pair table is a few strings
 * for the receiving end to check instead of half a million small objects.
 */
export const WireTable = z.object({
  labels: z.array(z.string()),
  rows: z.object({
    pair_id: z.array(z.string()),
    query: z.array(z.string()),
    title: z.array(z.string()),
    band: z.array(z.string().nullable()),
    intent: z.array(z.string().nullable()),
  }),
  /** base64 of an Int8Array */
  gold: z.string(),
  columns: z.array(z.object({ id: z.string(), run: z.string(), variant: z.string(), pred: z.string(), prob: z.string() })),
});
export type WireTable = z.infer<typeof WireTable>;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function toWire(t: DecisionTable): WireTable {
  const bytes = (a: Int8Array | Float32Array) => toBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return {
    labels: t.labels,
    rows: {
      pair_id: t.rows.map((r) => r.pair_id),
      query: t.rows.map((r) => r.query),
      title: t.rows.map((r) => r.title),
      band: t.rows.map((r) => r.band ?? null),
      intent: t.rows.map((r) => r.intent ?? null),
    },
    gold: bytes(t.gold),
    columns: t.columns.map((c) => ({ id: c.id, run: c.run, variant: c.variant, pred: bytes(c.pred), prob: bytes(c.prob) })),
  };
}

export function fromWire(w: WireTable): DecisionTable {
  const n = w.rows.pair_id.length;
  const int8 = (b64: string) => {
    const a = new Int8Array(fromBase64(b64).buffer);
    if (a.length !== n) throw new Error(`decision table: a column has ${a.length} grades for ${n} pairs`);
    return a;
  };
  const rows: PairRow[] = w.rows.pair_id.map((pair_id, i) => ({
    pair_id,
    query: w.rows.query[i],
    title: w.rows.title[i],
    ...(w.rows.band[i] !== null ? { band: w.rows.band[i]! } : {}),
    ...(w.rows.intent[i] !== null ? { intent: w.rows.intent[i]! } : {}),
  }));
  return {
    labels: w.labels,
    rows,
    gold: int8(w.gold),
    columns: w.columns.map((c) => ({ id: c.id, run: c.run, variant: c.variant, pred: int8(c.pred), prob: new Float32Array(fromBase64(c.prob).buffer) })),
  };
}
