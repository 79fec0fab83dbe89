// Pairwise dependence of the sampled flips in a cityscapes-like `probunet reproduce` run.
//
// The true flips are independent coins (packages/datasets: sidewalk 8/17, person 7/17, car 6/17,
// vegetation 5/17, road 4/17), so in the exact distribution every pair of flips has correlation 0.
// results.json does not keep per-image records, so the records come from the study's parts folder
// (`DIR.parts/`, kept while the study runs and removed when it completes): `--extract` copies each
// model's per-image flip records (the flip combination of every sample, e.g. `01010`, and the
// pixels of each class) into one small JSON file. The report keeps the test images that contain
// all five classes (the 32-mode table's images) and prints, per model and pair of classes, the phi
// coefficient (Pearson correlation of the two 0/1 flips) over all their samples, with its standard
// error under independence (1/sqrt(n)).
//
//   node docs/results/flip-pair-correlations.mjs --extract runs/cityscapes-like.parts docs/results/cityscapes-like/flip-records.json
//   node docs/results/flip-pair-correlations.mjs docs/results/cityscapes-like/flip-records.json
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const usage = 'usage: node docs/results/flip-pair-correlations.mjs [--extract PARTS_DIR] RECORDS_JSON';
const args = process.argv.slice(2);
if (args[0] === '--extract') {
  if (args.length !== 3) {
    console.error(usage);
    process.exit(2);
  }
  const [, dir, out] = args;
  const models = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')).part)
    .map((part) => ({
      type: part.model.type,
      images: part.evaluation.perImage.map((image) => ({ id: image.id, ...image.flipRecord })),
    }));
  if (models.some((model) => model.images.some((image) => !image.modes))) {
    console.error(`${dir}: not a cityscapes-like study (a model's per-image records have no flip record)`);
    process.exit(2);
  }
  const written = { format: 'probunet-flip-records', source: dir, models };
  writeFileSync(`${out}.tmp`, `${JSON.stringify(written)}\n`);
  renameSync(`${out}.tmp`, out);
  console.error(`wrote ${out}: ${models.length} models`);
  process.exit(0);
}
if (args.length !== 1) {
  console.error(usage);
  process.exit(2);
}
const results = JSON.parse(readFileSync(args[0], 'utf8'));
const names = ['sidewalk', 'person', 'car', 'vegetation', 'road'];
const pairs = [];
for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) pairs.push([i, j]);
console.log(`| model | samples | ${pairs.map(([i, j]) => `${names[i]}–${names[j]}`).join(' | ')} | largest abs. |`);
console.log(`|---|---|${pairs.map(() => '---').join('|')}|---|`);
for (const model of results.models) {
  const samples = [];
  for (const record of model.images) {
    if (record.classPixels.some((pixels) => pixels === 0)) continue;
    for (const mode of record.modes) for (let k = 0; k < mode.count; k++) samples.push([...mode.key].map(Number));
  }
  const n = samples.length;
  if (n === 0) continue;
  const share = (f) => samples.filter(f).length / n;
  const phis = pairs.map(([i, j]) => {
    const pi = share((s) => s[i] === 1);
    const pj = share((s) => s[j] === 1);
    const pij = share((s) => s[i] === 1 && s[j] === 1);
    const denominator = Math.sqrt(pi * (1 - pi) * pj * (1 - pj));
    return denominator > 0 ? (pij - pi * pj) / denominator : NaN;
  });
  const finite = phis.filter(Number.isFinite).map(Math.abs);
  const largest = finite.length ? Math.max(...finite).toFixed(3) : '–';
  console.log(`| ${model.type} | ${n} (s.e. ${(1 / Math.sqrt(n)).toFixed(3)}) | ${phis.map((p) => (Number.isFinite(p) ? p.toFixed(3) : '–')).join(' | ')} | ${largest} |`);
}
