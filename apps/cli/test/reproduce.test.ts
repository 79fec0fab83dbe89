import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_TYPES } from '@probunet/baselines';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

const METRICS = ['gedGraders', 'sampleDiversity', 'matchedIoUGraders', 'ncc', 'ece', 'gedDistribution', 'matchedIoUDistribution', 'oracleGedDistribution', 'trueDiversity'];

/** What every results.json must hold, checked field by field (the schema of docs/reproduction.md). */
async function expectValidResults(out: string, task: string, images: number) {
  const result = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
  expect(result.format).toBe('probunet-reproduction');
  expect(result.version).toBe(1);
  const h = result.header;
  expect(h.command).toMatch(new RegExp(`^probunet reproduce --task ${task} .*--out `));
  expect(h.task).toBe(task);
  expect(typeof h.seed).toBe('number');
  expect(h.backend).toMatch(/^wasm /);
  expect(h.machine.cores).toBeGreaterThan(0);
  expect(typeof h.machine.cpu).toBe('string');
  expect(Number.isNaN(Date.parse(h.started))).toBe(false);
  expect(h.seconds).toBeGreaterThan(0);
  expect(result.models.map((m: { type: string }) => m.type)).toEqual([...MODEL_TYPES]);
  for (const m of result.models) {
    expect(m.config.type).toBe(m.type);
    expect(m.training.steps).toBe(result.plan.training.steps);
    expect(m.training.weightDecay).toBe(result.plan.training.weightDecay);
    expect(m.evaluation.card.format).toBe('probunet-evaluation');
    expect(m.evaluation.card.model.type).toBe(m.type);
    expect(m.evaluation.card.protocol.examples.count).toBe(images);
    expect(m.evaluation.bySampleCount.map((s: { samples: number }) => s.samples)).toEqual([1, 4, 8, 16]);
    for (const s of m.evaluation.bySampleCount) expect(Object.keys(s.metrics).sort()).toEqual([...METRICS].sort());
  }
  // Every model is scored on the same images, so all share one oracle floor.
  const floors = result.models.map((m: { evaluation: { bySampleCount: Array<{ metrics: { oracleGedDistribution: { mean: number } } }> } }) => m.evaluation.bySampleCount[3]!.metrics.oracleGedDistribution.mean);
  expect(new Set(floors).size).toBe(1);
  // The checks follow from the table: recompute them.
  const ged = (type: string) => result.models.find((m: { type: string }) => m.type === type).evaluation.bySampleCount[3].metrics.gedDistribution.mean;
  expect(result.checks).toHaveLength(2);
  expect(result.checks[0].pass).toBe(ged('prob-unet') < ged('deterministic-unet'));
  expect(result.checks[1].pass).toBe(MODEL_TYPES.every((t) => floors[0] < ged(t)));
  expect(result.assessment.map((a: { kind: string }) => a.kind)).toEqual(['shifted', 'inverted']);
  for (const a of result.assessment) {
    expect(a.images).toBe(images);
    expect(a.graders).toBe(4);
    expect(a.chance).toBe(0.25);
    expect(a.rateLogLikelihood).toBe(a.hitsLogLikelihood / images);
  }
  for (const file of result.files) await access(join(out, file));
  expect((await readdir(out)).sort()).toEqual([...result.files].sort());
  const md = await readFile(join(out, 'results.md'), 'utf8');
  expect(md).toContain(`# probunet reproduce — ${task}`);
  expect(md).toContain(h.command);
  for (const type of MODEL_TYPES) expect(md).toContain(`| ${type} | 16 |`);
  expect(md).toContain('| oracle floor (true samples) | 16 |');
  expect(md).toMatch(/\| shifted \| \d+ \| /);
  return result;
}

const tiny = ['--steps', '2', '--batch', '2', '--train-images', '4', '--test-images', '2', '--backend', 'wasm'];

describe('probunet reproduce', () => {
  let root = '';
  beforeAll(async () => {
    root = await tempDir('reproduce');
  });

  it('lidc-like, tiny: results.json and results.md with every model, the checks, the assessment and the figures; exit code follows the checks', async () => {
    const out = join(root, 'lidc');
    const r = await runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--seed', '3', '--out', out, '--json']);
    const summary = JSON.parse(r.out);
    expect(r.code, r.err).toBe(summary.passed ? 0 : 1);
    expect(summary.checks).toHaveLength(2);
    const result = await expectValidResults(out, 'lidc-like', 2);
    expect(result.header.seed).toBe(3);
    expect(result.plan.data).toMatchObject({ source: 'synthetic-lidc', trainImages: 4, testImages: 2, trainSeed: 3 });
    expect(result.files).toEqual(expect.arrayContaining(['ged-vs-samples.png', 'ged-vs-samples.svg', 'mode-frequencies.png', ...MODEL_TYPES.map((t) => `samples-${t}.png`)]));
    expect(result.files).not.toContain('calibration.png');
    expect(await readFile(join(out, 'ged-vs-samples.svg'), 'utf8')).toContain('image2image-vae');
    expect(decode(await readFile(join(out, 'samples-prob-unet.png'))).width).toBeGreaterThan(100);
    // Progress lines on stderr, one per model at least.
    MODEL_TYPES.forEach((type, i) => expect(r.err).toContain(`train [${i + 1}/6] ${type}`));
    // The folder exists now: refused without --force, replaced with it.
    const again = await runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--out .* exists: pass --force/);
  }, 120_000);

  it('cityscapes-like, tiny: the calibration figure, and no tensor left behind', async () => {
    const out = join(root, 'city');
    const before = tf.memory().numTensors;
    const r = await runCli(['reproduce', '--task', 'cityscapes-like', ...tiny, '--out', out]);
    expect(tf.memory().numTensors).toBe(before);
    expect([0, 1]).toContain(r.code);
    expect(r.out).toMatch(/cityscapes-like \(quick\) in .* → .*results\.md/);
    const result = await expectValidResults(out, 'cityscapes-like', 2);
    expect(result.files).toEqual(expect.arrayContaining(['calibration.png', 'calibration.svg', 'mode-frequencies.png']));
    const prob = result.models[0];
    expect(prob.evaluation.flipCalibration.flips).toHaveLength(5);
    expect(r.code).toBe(result.checks.every((c: { pass: boolean }) => c.pass) ? 0 : 1);
  }, 120_000);

  it.each([
    ['an unknown task', ['--task', 'mnist'], /--task must be one of lidc-like, cityscapes-like, got "mnist"/],
    ['an unknown budget', ['--task', 'lidc-like', '--budget', 'huge'], /--budget must be one of quick, full, got "huge"/],
    ['no task', [], /--task lidc-like\|cityscapes-like is required/],
    ['a bad --steps', ['--task', 'lidc-like', '--steps', '0'], /--steps must be an integer ≥ 1, got "0"/],
  ])('%s: exit 2 with one line naming it', async (_what, args, message) => {
    const r = await runCli(['reproduce', ...args, '--out', join(root, 'never')]);
    expect(r.code).toBe(2);
    const lines = r.err.trim().split('\n');
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/^probunet reproduce: /);
    expect(r.err).not.toMatch(/\n\s+at /);
    await expect(access(join(root, 'never'))).rejects.toThrow();
  });
});

// The quick budget end to end with its checks (a few minutes on 2 cores): CI sets PROBUNET_SLOW_TESTS=1.
describe.skipIf(process.env.PROBUNET_SLOW_TESTS !== '1')('probunet reproduce --budget quick (slow)', () => {
  it.each(['lidc-like', 'cityscapes-like'])('%s: every check passes', async (task) => {
    const out = join(await tempDir('reproduce-quick'), task);
    const r = await runCli(['reproduce', '--task', task, '--budget', 'quick', '--out', out, '--json']);
    const summary = JSON.parse(r.out);
    expect(summary.checks.filter((c: { pass: boolean }) => !c.pass)).toEqual([]);
    expect(r.code, r.err).toBe(0);
  }, 900_000);
});
