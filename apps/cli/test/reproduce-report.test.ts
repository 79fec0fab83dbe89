import { CITYSCAPES_FLIPS, recordImageFlips, summarizeFlipCalibration, type LabelMap } from '@probunet/metrics';
import { describe, expect, it } from 'vitest';
import { calibrationSection, targets, type ModelResult } from '../src/commands/reproduce-report.js';
import type { StudyPlan } from '../src/commands/reproduce-plan.js';

const plan = { task: 'cityscapes-like', evaluation: { sampleCounts: [1, 16] } } as unknown as StudyPlan;
const truth: LabelMap = { data: CITYSCAPES_FLIPS.map((f) => f.from), height: 1, width: 5 };

/** A Prob. U-Net result whose flip calibration comes from `draw` (16 samples on each of 40 images with all five classes). */
function probResult(draw: () => LabelMap): ModelResult {
  const records = Array.from({ length: 40 }, () => recordImageFlips(Array.from({ length: 16 }, draw), truth, CITYSCAPES_FLIPS));
  const flipCalibration = summarizeFlipCalibration(records, CITYSCAPES_FLIPS);
  return { type: 'prob-unet', evaluation: { bySampleCount: [], flipCalibration } } as unknown as ModelResult;
}

describe('cityscapes-like targets (issue 27)', () => {
  it('a calibrated sampler meets all three; one that never flips meets none', () => {
    let seed = 5;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const calibrated = targets([probResult(() => ({ ...truth, data: CITYSCAPES_FLIPS.map((f) => (rnd() < f.probability ? f.to : f.from)) }))], plan);
    expect(calibrated.map((t) => t.pass)).toEqual([true, true, true]);
    expect(calibrated[1]!.detail).toMatch(/^r = 0\.9\d\d; 32 modes, 40 test images with all 5 classes$/);
    const never = targets([probResult(() => truth)], plan);
    expect(never.map((t) => t.pass)).toEqual([false, false, false]);
    expect(never[0]!.detail).toContain('person 0.000/0.412');
    expect(never[2]!.detail).toMatch(/^TV = 0\.891 /);
  });

  it('no image with every class: r undefined (NaN), said so, target not met', () => {
    const partial: LabelMap = { data: [1, 11, 13, 8, 3], height: 1, width: 5 };
    const records = [recordImageFlips([partial], partial, CITYSCAPES_FLIPS)];
    const prob = { type: 'prob-unet', evaluation: { bySampleCount: [], flipCalibration: summarizeFlipCalibration(records, CITYSCAPES_FLIPS) } } as unknown as ModelResult;
    const t = targets([prob], plan);
    expect(t[1]!.pass).toBe(false);
    expect(t[1]!.detail).toMatch(/r = – \(undefined: no such image, or constant frequencies\); 32 modes, 0 test images/);
  });
});

describe('lidc-like targets (issue 27)', () => {
  const lidcPlan = { task: 'lidc-like', evaluation: { sampleCounts: [1, 16] } } as unknown as StudyPlan;
  const model = (type: string, ged: number, oracle: number, shares: Array<[string, number, number]> | null): ModelResult =>
    ({
      type,
      evaluation: {
        bySampleCount: [{ samples: 16, metrics: { gedDistribution: { mean: ged }, oracleGedDistribution: { mean: oracle }, sampleDiversity: { mean: 0.4 }, trueDiversity: { mean: 0.42 } } }],
        modeShares: shares?.map(([mode, sampleShare, trueProbability]) => ({ mode, samples: 0, sampleShare, trueProbability })) ?? null,
        flipCalibration: null,
      },
    }) as unknown as ModelResult;

  it('GED within 0.03 of the floor and every mode share within 0.05: met; one past either edge: missed', () => {
    const det = model('deterministic-unet', 0.3, 0.038, null);
    const good = targets([model('prob-unet', 0.067, 0.038, [['empty', 0.21, 0.25], ['small', 0.26, 0.25]]), det], lidcPlan);
    expect(good.map((t) => t.pass)).toEqual([true, true, true, true]);
    expect(good[1]!.detail).toBe('empty 0.210/0.250, small 0.260/0.250 (worst miss 0.040)');
    const far = targets([model('prob-unet', 0.105, 0.038, [['empty', 0.18, 0.25], ['small', 0.26, 0.25]]), det], lidcPlan);
    expect(far.map((t) => t.pass)).toEqual([false, false, true, true]);
    expect(far[0]!.detail).toBe('0.105 − 0.038 = 0.067');
    expect(far[1]!.detail).toContain('(worst miss 0.070)');
    const none = targets([model('prob-unet', 0.05, 0.038, null), det], lidcPlan);
    expect(none[1]).toMatchObject({ pass: false, detail: 'no mode shares' });
  });
});

describe('calibration per model (issues 27 and 31)', () => {
  it('cityscapes-like: one row per model with the flip fractions, worst miss, r and TVs; a model that never flips misses by the largest probability', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const calibrated = probResult(() => ({ ...truth, data: CITYSCAPES_FLIPS.map((f) => (rnd() < f.probability ? f.to : f.from)) }));
    const never = { ...probResult(() => truth), type: 'deterministic-unet' } as ModelResult;
    const lines = calibrationSection(plan, [calibrated, never]);
    const header = lines.find((l) => l.startsWith('| model'))!;
    expect(header).toBe('| model | sidewalk | person | car | vegetation | road | worst miss | r | table TV | per-image TV |');
    expect(lines.find((l) => l.startsWith('| truth'))).toBe('| truth | 0.471 | 0.412 | 0.353 | 0.294 | 0.235 | | | | |');
    const det = lines.find((l) => l.startsWith('| deterministic-unet'))!.split('|').map((c) => c.trim());
    // Never flips: every fraction 0, worst miss the largest probability (8/17), r 0.539 (a one-hot on
    // the most probable combination still correlates; packages/metrics' calibration test), table TV 0.891.
    expect(det.slice(2, 7)).toEqual(['0.000', '0.000', '0.000', '0.000', '0.000']);
    expect(det.slice(7, 10)).toEqual(['0.471', '0.539', '0.891']);
    const prob = lines.find((l) => l.startsWith('| prob-unet'))!.split('|').map((c) => c.trim());
    expect(Number(prob[7])).toBeLessThan(0.1);
    expect(Number(prob[8])).toBeGreaterThan(0.9);
  });

  it('lidc-like: each mode share per model against the truth row, worst miss', () => {
    const lidcPlan = { task: 'lidc-like', evaluation: { sampleCounts: [1, 16] } } as unknown as StudyPlan;
    const shares = (xs: number[]) => ['empty', 'small'].map((mode, k) => ({ mode, samples: 0, sampleShare: xs[k]!, trueProbability: [0.4, 0.6][k]! }));
    const models = [
      { type: 'prob-unet', evaluation: { modeShares: shares([0.3, 0.7]) } },
      { type: 'm-heads', evaluation: { modeShares: shares([0.45, 0.55]) } },
    ] as unknown as ModelResult[];
    const lines = calibrationSection(lidcPlan, models);
    expect(lines.filter((l) => l.startsWith('|'))).toEqual([
      '| model | empty | small | worst miss |',
      '|---|---|---|---|',
      '| truth | 0.400 | 0.600 | |',
      '| prob-unet | 0.300 | 0.700 | 0.100 |',
      '| m-heads | 0.450 | 0.550 | 0.050 |',
    ]);
  });
});
