import { readCsvRows } from '../csv.ts';
import { gradedMedian4ToLabel } from '../labels.ts';
import type { PairRecord } from '../schema.ts';
import { decodeHtmlEntities } from './html.ts';
import { productIdForTitle, queryIdFor } from './ids.ts';
import { cellError, num, optText, text } from './fields.ts';

/**
 * CrowdFlower Search Results Relevance (Kaggle 2015) train.csv: id, query, product_title,
 * product_description, median_relevance, relevance_variance. UTF-8; descriptions are quoted and may
 * span lines. The label is the median of 3 ratings (integer 1–4, graded4); it is kept as `score`.
 * The data has no product id, so products are identified by a hash of their title.
 */
export const CROWDFLOWER_SCHEME = 'graded4';
const COLUMNS = ['id', 'query', 'product_title', 'product_description', 'median_relevance'] as const;

export async function* readCrowdFlower(file: string): AsyncGenerator<PairRecord> {
  for await (const { row, line } of readCsvRows(file, { required: COLUMNS })) {
    const query = text(row, 'query', file, line);
    const title = decodeHtmlEntities(text(row, 'product_title', file, line));
    const score = num(row, 'median_relevance', file, line, 1, 4);
    if (!Number.isInteger(score)) throw cellError({ file, line, column: 'median_relevance' }, `expected an integer 1–4, got ${score}`);
    const description = optText(row, 'product_description');
    yield {
      pair_id: text(row, 'id', file, line),
      query_id: queryIdFor(query),
      query,
      product_id: productIdForTitle(title),
      title,
      ...(description ? { description: decodeHtmlEntities(description) } : {}),
      label: gradedMedian4ToLabel(score),
      score,
    };
  }
}
