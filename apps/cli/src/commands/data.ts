import { parseArgs } from 'node:util';
import { createSyntheticCityscapes, createSyntheticLidc, type IndexedDataset } from '@probunet/datasets';
import { lidcSplits, openCityscapes, openLidc, openLidcPickle, writeCityscapesFixture, writeLidcFixture, writeLidcPickleFixture } from '@probunet/datasets/node';
import { UsageError } from '../cli-errors.js';

export const DATA_HELP = `probunet data check --source lidc|lidc-pickle|cityscapes|synthetic|synthetic-cityscapes --root DIR [--split NAME] [--max-png-bytes N]
  Reads every example of a dataset and prints a JSON summary: images, patients or cities,
  annotations per image, sizes, the share of empty masks, and every problem found (bad files are
  skipped and reported, not fatal). An unknown --split is an error listing the splits there are;
  without --split every split present is checked (LIDC: its split folders; Cityscapes: train, val,
  test), reported per split and in total.
  --max-png-bytes N: largest decoded PNG accepted, checked from its header before decoding
  (default: 1 MiB for lidc, 32 MiB for cityscapes).
probunet data fixtures --source lidc|lidc-pickle|cityscapes --out DIR
  Writes a small tree in the exact on-disk format of a real dataset, to try the loaders.
`;

type Source = 'lidc' | 'lidc-pickle' | 'cityscapes' | 'synthetic' | 'synthetic-cityscapes';
const SOURCES: Source[] = ['lidc', 'lidc-pickle', 'cityscapes', 'synthetic', 'synthetic-cityscapes'];

export async function data(argv: string[]): Promise<number> {
  const [first, ...others] = argv;
  // `probunet data --help` (no sub-command) is help too, not a missing sub-command.
  const [sub, rest] = first === '--help' || first === '-h' ? [undefined, others] : [first, others];
  const { values } = parseArgs({
    args: rest,
    options: {
      source: { type: 'string' },
      root: { type: 'string' },
      out: { type: 'string' },
      split: { type: 'string' },
      'max-png-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help || sub === undefined || sub === 'help') {
    process.stdout.write(DATA_HELP);
    return 0;
  }
  const source = values.source as Source | undefined;
  if (!source || !SOURCES.includes(source)) throw new UsageError(`--source must be one of ${SOURCES.join(', ')}, got ${String(source)}`);
  if (sub === 'fixtures') {
    if (!values.out) throw new Error('--out DIR is required');
    if (source === 'lidc') await writeLidcFixture(values.out, { split: values.split ?? 'train' });
    else if (source === 'cityscapes') await writeCityscapesFixture(values.out);
    else if (source === 'lidc-pickle') await writeLidcPickleFixture(values.out);
    else throw new Error(`synthetic sources need no fixture files`);
    process.stdout.write(`wrote a ${source} fixture under ${values.out}\n`);
    return 0;
  }
  if (sub !== 'check') throw new Error(`unknown data command "${sub}"; use check or fixtures`);
  const needsRoot = source === 'lidc' || source === 'lidc-pickle' || source === 'cityscapes';
  if (needsRoot && !values.root) throw new Error(`--root DIR is required for --source ${source}`);
  const root = values.root!;
  const limit = values['max-png-bytes'];
  const maxPngBytes = limit === undefined ? undefined : Number(limit);
  if (maxPngBytes !== undefined && !(Number.isInteger(maxPngBytes) && maxPngBytes > 0)) throw new UsageError(`--max-png-bytes must be a positive integer, got ${limit}`);
  const pngLimit = maxPngBytes === undefined ? {} : { maxPngBytes };
  type Checked = IndexedDataset & { report?: { skipped: Array<{ file: string; problem: string }> }; patients?: string[]; cities?: string[] };
  const open = async (split: string | undefined): Promise<Checked> => {
    if (source === 'lidc') return openLidc({ root, split: split ?? 'train', onError: 'skip', ...pngLimit });
    if (source === 'lidc-pickle') return openLidcPickle({ file: root, onError: 'skip', ...(split ? { split: split as 'train' } : {}) });
    if (source === 'cityscapes') return openCityscapes({ root, split: (split ?? 'train') as 'train', onError: 'skip', ...pngLimit });
    if (source === 'synthetic') return createSyntheticLidc({ count: 100 });
    return createSyntheticCityscapes({ count: 20 });
  };
  // Without --split: every split present (LIDC: its split folders; Cityscapes: the authors' three;
  // the pickle without a split is every entry already).
  let splits: string[] = [];
  if (values.split === undefined && source === 'lidc') splits = await lidcSplits(root);
  else if (values.split === undefined && source === 'cityscapes') splits = ['train', 'val', 'test'];
  if (splits.length > 1) {
    const bySplit: Record<string, Awaited<ReturnType<typeof summarise>>> = {};
    let images = 0;
    let problems = 0;
    for (const split of splits) {
      const part = await summarise(await open(split));
      bySplit[split] = part;
      images += part.images;
      problems += part.problems.length;
    }
    process.stdout.write(`${JSON.stringify({ source, root: values.root ?? null, splits: bySplit, total: { splits: splits.length, images, problems } }, null, 2)}\n`);
    return problems > 0 ? 1 : 0;
  }
  const summary = { source, root: values.root ?? null, split: values.split ?? splits[0] ?? null, ...(await summarise(await open(values.split ?? splits[0]))) };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return summary.problems.length > 0 ? 1 : 0;
}

/** What `data check` reports of one dataset (one split). */
async function summarise(ds: IndexedDataset & { report?: { skipped: Array<{ file: string; problem: string }> }; patients?: string[]; cities?: string[] }) {
  const sizes = new Map<string, number>();
  const graders = new Map<number, number>();
  const problems = [...(ds.report?.skipped ?? [])];
  let images = 0;
  let masks = 0;
  let emptyMasks = 0;
  for (let i = 0; i < ds.length; i++) {
    try {
      const ex = await ds.get(i);
      images++;
      const key = `${ex.height}x${ex.width}x${ex.channels}`;
      sizes.set(key, (sizes.get(key) ?? 0) + 1);
      graders.set(ex.annotations.length, (graders.get(ex.annotations.length) ?? 0) + 1);
      for (const a of ex.annotations) {
        masks++;
        if (!a.some((v) => v !== 0 && v !== 255)) emptyMasks++;
      }
    } catch (err) {
      problems.push({ file: (err as { file?: string }).file ?? `example ${i}`, problem: (err as Error).message });
    }
  }
  return {
    name: ds.name,
    images,
    listed: ds.length,
    ...(ds.patients ? { patients: ds.patients.length } : {}),
    ...(ds.cities ? { cities: ds.cities } : {}),
    annotationsPerImage: Object.fromEntries(graders),
    sizes: Object.fromEntries(sizes),
    emptyMaskShare: masks ? emptyMasks / masks : null,
    spec: ds.spec,
    problems,
  };
}
