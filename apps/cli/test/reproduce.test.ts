import { access, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { decode } from 'fast-png';
import { beforeAll, describe, expect, it } from 'vitest';
import { STUDY_MODELS } from '../src/commands/reproduce-plan.js';
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
  expect(result.models.map((m: { type: string }) => m.type)).toEqual([...STUDY_MODELS]);
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
  expect(result.checks[1].pass).toBe(STUDY_MODELS.every((t) => floors[0] < ged(t)));
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
  for (const type of STUDY_MODELS) expect(md).toContain(`| ${type} | 16 |`);
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
    expect(result.files).toEqual(expect.arrayContaining(['ged-vs-samples.png', 'ged-vs-samples.svg', 'mode-frequencies.png', ...STUDY_MODELS.map((t) => `samples-${t}.png`)]));
    expect(result.files).not.toContain('calibration.png');
    expect(await readFile(join(out, 'ged-vs-samples.svg'), 'utf8')).toContain('image2image-vae');
    expect(decode(await readFile(join(out, 'samples-prob-unet.png'))).width).toBeGreaterThan(100);
    // Progress lines on stderr, one per model at least.
    STUDY_MODELS.forEach((type, i) => expect(r.err).toContain(`train [${i + 1}/${STUDY_MODELS.length}] ${type}`));
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

  it('a stopped study continues with --resume from its first unfinished model, to the same results', async () => {
    const whole = join(root, 'lidc');
    await access(join(whole, 'results.json')).catch(() => runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--seed', '3', '--out', whole]));
    const out = join(root, 'lidc-stopped');
    // Stop the run (as a crash would) when the third model starts training: two models are finished.
    const stopped = await runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--seed', '3', '--out', out], (line) => {
      if (line.includes('train [3/')) throw new Error('stopped by the test');
    });
    expect(stopped.code).not.toBe(0);
    await expect(access(out)).rejects.toThrow();
    expect((await readdir(`${out}.parts`)).sort()).toEqual([`${STUDY_MODELS[0]}.json`, `${STUDY_MODELS[1]}.json`].sort());
    // Without --resume the parts are not silently lost or reused.
    const refused = await runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--seed', '3', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/lidc-stopped\.parts holds the finished models of an interrupted study: add --resume to continue it, or --force/);
    // Other options: the parts' plan is not this one.
    const other = await runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--seed', '4', '--out', out, '--resume']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/was made under another plan \(seed: 3 there, 4 now\)/);
    const resumed = await runCli(['reproduce', '--task', 'lidc-like', ...tiny, '--seed', '3', '--out', out, '--resume']);
    expect([0, 1], resumed.err).toContain(resumed.code);
    expect(resumed.err).toContain(`resuming: ${STUDY_MODELS[0]}, ${STUDY_MODELS[1]} finished earlier`);
    expect(resumed.err).not.toContain(`train [1/${STUDY_MODELS.length}]`);
    await expect(access(`${out}.parts`)).rejects.toThrow();
    const [a, b] = [JSON.parse(await readFile(join(whole, 'results.json'), 'utf8')), JSON.parse(await readFile(join(out, 'results.json'), 'utf8'))];
    const table = (r: typeof a) => r.models.map((m: { type: string; evaluation: { bySampleCount: unknown; modeShares: unknown } }) => [m.type, m.evaluation.bySampleCount, m.evaluation.modeShares]);
    expect(table(b)).toEqual(table(a));
    expect(b.assessment.map((x: { hitsElbo: number }) => x.hitsElbo)).toEqual(a.assessment.map((x: { hitsElbo: number }) => x.hitsElbo));
    expect(b.header.resumed.models).toEqual([STUDY_MODELS[0], STUDY_MODELS[1]]);
    expect(await readFile(join(out, 'results.md'), 'utf8')).toMatch(/\| time taken \| .* \(resumed: prob-unet, deterministic-unet finished by a run started /);
    expect((await readdir(out)).sort()).toEqual([...b.files].sort());
  }, 180_000);

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
