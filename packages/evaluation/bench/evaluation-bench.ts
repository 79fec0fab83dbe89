/**
 * Throughput of a whole evaluation: the LIDC configuration (channels 32/64/128/192, 128×128, random
 * weights) sampled and scored on synthetic LIDC-like test images (1,980, the LIDC test split's size).
 * Prints one JSON line: seconds, images/s, the sampling and metrics shares, peak RSS.
 *   tsx packages/evaluation/bench/evaluation-bench.ts [--images 1980] [--samples 1,4,8,16] [--size 128]
 *       [--batch 8] [--backend auto] [--quick]
 * --quick: 4 images of 32×32, 4 samples (CI's smoke run).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendPreference } from '@probunet/backends';
import { createProbUNet } from '@probunet/core';
import { createSyntheticLidc } from '@probunet/datasets';
import { evaluateSampler } from '../src/index.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '1980' },
    samples: { type: 'string', default: '1,4,8,16' },
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '8' },
    backend: { type: 'string', default: 'auto' },
    quick: { type: 'boolean', default: false },
  },
});
const quick = values.quick!;
const images = quick ? 4 : Number(values.images);
const sampleCounts = quick ? [1, 4] : values.samples!.split(',').map(Number);
const size = quick ? 32 : Number(values.size);
const batchSize = quick ? 2 : Number(values.batch);

tf.env().set('PROD', true);
const report = await initBackend(values.backend as BackendPreference);
const model = createProbUNet({ inputChannels: 1, numClasses: 2, channels: [32, 64, 128, 192], convsPerBlock: 3, latentDim: 6, num1x1Convs: 3, seed: 0 });
const data = createSyntheticLidc({ count: images, size, graders: 4, seed: 7 });
let lastLog = performance.now();
const result = await evaluateSampler(model, data, {
  sampleCounts,
  batchSize,
  split: 'test',
  onProgress: (p) => {
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      process.stderr.write(`  ${p.done}/${p.total} images, ${p.seconds.toFixed(0)} s\n`);
    }
  },
});
model.dispose();
const t = result.timing;
const largest = result.bySampleCount.at(-1)!;
process.stdout.write(
  `${JSON.stringify({
    benchmark: '@probunet/evaluation',
    date: new Date().toISOString(),
    backend: report.selected,
    threads: report.threads,
    images,
    size,
    batchSize,
    sampleCounts,
    seconds: t.totalSeconds,
    imagesPerSecond: images / t.totalSeconds,
    samplingSeconds: t.samplingSeconds,
    metricsSeconds: t.metricsSeconds,
    loadingSeconds: t.loadingSeconds,
    samplingShare: t.samplingSeconds / t.totalSeconds,
    metricsShare: t.metricsSeconds / t.totalSeconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    gedGradersAtLargest: largest.metrics.gedGraders?.mean,
    sampleDiversityAtLargest: largest.metrics.sampleDiversity?.mean,
  })}\n`,
);
