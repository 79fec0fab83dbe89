import { createSyntheticCityscapes, createSyntheticLidc, indexedDataset, type IndexedDataset } from '@probunet/datasets';
import { openCityscapes, openLidc, openLidcPickle } from '@probunet/datasets/node';
import { UsageError } from './cli-errors.js';
import { choiceOption, integerOption, requiredOption } from './option-values.js';

// TODO(issue 13): `probunet data` opens the same sources inline in commands/data.ts; once that opener
// is exported, both commands should share one (data.ts is being edited in parallel this round).

export const DATA_SOURCES = ['synthetic-lidc', 'synthetic-cityscapes', 'lidc', 'lidc-pickle', 'cityscapes'] as const;
export type DataSource = (typeof DATA_SOURCES)[number];
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** What a training run records about its data, so `--resume` reopens exactly the same stream. */
export interface DataSourceOptions {
  source: DataSource;
  /** Folder (lidc, cityscapes) or file (lidc-pickle); unused by the synthetic sources. */
  root: string | null;
  split: Split;
  /** Keep the first N examples only. */
  limit: number | null;
  /** Synthetic sources: image side (synthetic-lidc) or height (synthetic-cityscapes, width 2×). */
  size: number;
  /** Synthetic sources: how many images. */
  count: number;
  seed: number;
}

/** Synthetic splits differ by seed; the offset keeps them apart for any user seed. */
const SPLIT_SEED_OFFSET: Record<Split, number> = { train: 0, val: 1_000_003, test: 2_000_006 };

/** Opens a dataset source; every problem is thrown as an error naming the source and the fix. */
export async function openDataSource(options: DataSourceOptions): Promise<IndexedDataset> {
  const { source, split } = options;
  const needsRoot = source === 'lidc' || source === 'lidc-pickle' || source === 'cityscapes';
  if (needsRoot && !options.root) throw new UsageError(`--root is required for --data ${source} (${source === 'lidc-pickle' ? 'the .pickle file' : 'the dataset folder'})`);
  const seed = options.seed + SPLIT_SEED_OFFSET[split];
  let ds: IndexedDataset;
  if (source === 'synthetic-lidc') ds = createSyntheticLidc({ count: options.count, size: options.size, graders: 4, seed });
  else if (source === 'synthetic-cityscapes') ds = createSyntheticCityscapes({ count: options.count, height: options.size, width: 2 * options.size, seed });
  else if (source === 'lidc') ds = await openLidc({ root: options.root!, split });
  else if (source === 'lidc-pickle') ds = await openLidcPickle({ file: options.root!, split });
  else ds = await openCityscapes({ root: options.root!, split });
  if (ds.length === 0) throw new UsageError(`--data ${source} --split ${split} holds no examples${options.root ? ` under ${options.root}` : ''}`);
  if (options.limit !== null && options.limit < ds.length) {
    const base = ds;
    ds = indexedDataset(`${base.name}[:${options.limit}]`, options.limit, base.spec, (i) => base.get(i));
  }
  return ds;
}

/** The options every command that reads a dataset takes (--data, --root, --split, --limit, --size, --count). */
export const DATA_OPTIONS = {
  data: { type: 'string' },
  root: { type: 'string' },
  split: { type: 'string' },
  limit: { type: 'string' },
  size: { type: 'string' },
  count: { type: 'string' },
} as const;

/** Parsed values of DATA_OPTIONS → what openDataSource takes; `defaults` are the command's own. */
export function dataSourceOptions(
  values: { data?: string | undefined; root?: string | undefined; split?: string | undefined; limit?: string | undefined; size?: string | undefined; count?: string | undefined },
  defaults: { split: Split; size: number; minSize: number; count: number; seed: number },
): DataSourceOptions {
  return {
    source: choiceOption('data', requiredOption('data', values.data, DATA_SOURCES.join(' | ')), DATA_SOURCES)!,
    root: values.root ?? null,
    split: choiceOption('split', values.split, SPLITS) ?? defaults.split,
    limit: integerOption('limit', values.limit, 1) ?? null,
    size: integerOption('size', values.size, defaults.minSize) ?? defaults.size,
    count: integerOption('count', values.count, 1) ?? defaults.count,
    seed: defaults.seed,
  };
}
