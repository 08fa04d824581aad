import { readCsvRows } from '../csv.ts';
import { gradedMean3ToLabel } from '../labels.ts';
import type { PairRecord } from '../schema.ts';
import { decodeHtmlEntities } from './html.ts';
import { queryIdFor } from './ids.ts';
import { num, text } from './fields.ts';

/**
 * Home Depot Product Search Relevance (Kaggle 2016) train.csv: id, product_uid, product_title,
 * search_term, relevance. The file is windows-1252, titles carry HTML entities (&amp; &#39;), and
 * relevance is the mean of ≥3 ratings on 1–3, bucketed into graded3 by gradedMean3ToLabel; the raw
 * mean is kept as `score` for regression-style metrics (RMSE).
 */
export const HOMEDEPOT_SCHEME = 'graded3';
const COLUMNS = ['id', 'product_uid', 'product_title', 'search_term', 'relevance'] as const;

export async function* readHomeDepot(file: string): AsyncGenerator<PairRecord> {
  for await (const { row, line } of readCsvRows(file, { encoding: 'windows-1252', required: COLUMNS })) {
    const query = text(row, 'search_term', file, line);
    const score = num(row, 'relevance', file, line, 1, 3);
    yield {
      pair_id: text(row, 'id', file, line),
      query_id: queryIdFor(query),
      query,
      product_id: text(row, 'product_uid', file, line),
      title: decodeHtmlEntities(text(row, 'product_title', file, line)),
      label: gradedMean3ToLabel(score),
      score,
    };
  }
}
