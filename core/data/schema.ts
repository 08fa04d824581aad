import { z } from 'zod';

/**
 * The canonical query–product pair. Every loader produces these; every stage consumes them; the
 * run folder stores them. Field names are snake_case so JSONL files read the same in Python/TRL.
 */
export const QueryFreq = z.enum(['head', 'torso', 'tail']);
export type QueryFreq = z.infer<typeof QueryFreq>;

export const Rationales = z
  .object({
    ee: z.string().optional(), // expert explaining: why the gold label holds
    ra: z.string().optional(), // rule adherence: the label derived from the written rules
    dr: z.string().optional(), // decision reflection: why a sampled wrong decision is wrong
  })
  .strict();
export type Rationales = z.infer<typeof Rationales>;

export const PairRecord = z
  .object({
    pair_id: z.string().min(1),
    query_id: z.string().min(1),
    query: z.string().min(1),
    product_id: z.string().min(1),
    title: z.string().min(1),
    brand: z.string().optional(),
    category: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    description: z.string().optional(),
    /** A label name of the dataset's scheme (see labels.ts), e.g. "Exact" or "4". */
    label: z.string().min(1),
    /** The raw numeric grade where the source is graded (Home Depot mean 1–3, CrowdFlower median 1–4). */
    score: z.number().optional(),
    query_freq: QueryFreq.optional(),
    /** The query's intent where known (the generator writes it): for slicing errors. */
    intent: z.string().optional(),
    rationales: Rationales.optional(),
  })
  .strict();
export type PairRecord = z.infer<typeof PairRecord>;

/** A loaded dataset: the pairs plus the scheme their labels belong to. */
export interface Dataset {
  pairs: PairRecord[];
  /** id of a LabelScheme in labels.ts */
  scheme: string;
  /** where it came from, for run provenance */
  source: string;
}
