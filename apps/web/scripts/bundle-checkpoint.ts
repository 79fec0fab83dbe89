/**
 * Copies a trained run's checkpoint into the site without its training state (Adam moments, step,
 * random state), which the page never uses: a third of the size. Run from apps/web:
 *   npx tsx scripts/bundle-checkpoint.ts RUN_DIR/model.ckpt public/models/NAME.ckpt
 */
import { initBackend } from '@probunet/backends';
import { baselinesPlugin } from '@probunet/baselines';
import { corePlugin, createRegistry, modelTypeOf } from '@probunet/core';
import { loadCheckpoint, saveCheckpoint } from '@probunet/core/node';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  process.stderr.write('usage: tsx scripts/bundle-checkpoint.ts RUN_DIR/model.ckpt public/models/NAME.ckpt\n');
  process.exit(2);
}
await initBackend('cpu');
const { model, header } = await loadCheckpoint(from, { registry: createRegistry([corePlugin, baselinesPlugin]) });
await saveCheckpoint(to, model, undefined, { ...header.meta, bundledFrom: `${from} at step ${header.trainer?.step ?? 'unknown'}` });
model.dispose();
process.stdout.write(`${to}: ${modelTypeOf(header.model)} without training state\n`);
