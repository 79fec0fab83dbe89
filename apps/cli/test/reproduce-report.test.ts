import { CITYSCAPES_FLIPS, recordImageFlips, summarizeFlipCalibration, type LabelMap } from '@probunet/metrics';
import { describe, expect, it } from 'vitest';
import { targets, type ModelResult } from '../src/commands/reproduce-report.js';
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
