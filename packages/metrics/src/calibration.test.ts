import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/golden-calibration.json' with { type: 'json' };
import {
  CITYSCAPES_FLIPS,
  MetricInputError,
  expectedTotalVariation,
  flipModeKeys,
  flipModeProbability,
  pearsonCorrelation,
  recordImageFlips,
  summarizeFlipCalibration,
  type FlipSpec,
  type ImageFlipRecord,
  type LabelMap,
} from './index.js';

/** A map from rows of digits, e.g. map('0110', '0010'). */
function map(...rows: string[]): LabelMap {
  return { height: rows.length, width: rows[0]!.length, data: rows.join('').split('').map(Number) };
}

// Flips 1→5 (p ½) and 2→6 (p ¼).
const two: FlipSpec[] = [
  { from: 1, to: 5, probability: 0.5 },
  { from: 2, to: 6, probability: 0.25 },
];

describe('recordImageFlips and summarizeFlipCalibration, by hand', () => {
  // '5562': class 2 half flipped, not more than 0.5 → unflipped.
  const record = recordImageFlips([map('5522'), map('1122'), map('5562'), map('5566')], map('1122'), two);

  it('records pixel counts and one combination per sample', () => {
    expect(record).toEqual({
      classPixels: [2, 2],
      flippedPixels: [6, 3],
      modes: [
        { key: '00', count: 1 },
        { key: '10', count: 2 },
        { key: '11', count: 1 },
      ],
    });
  });

  it('TV, the 4-mode table and its Pearson r', () => {
    const c = summarizeFlipCalibration([record], two);
    // Truth 00 3/8, 01 1/8, 10 3/8, 11 1/8; sampled 1/4, 0, 1/2, 1/4 → TV ½ (1/8 · 4) = 1/4.
    expect(c.totalVariation.mean).toBeCloseTo(0.25, 12);
    expect(c.fullModes.images).toBe(1);
    expect(c.fullModes.modes.map((m) => m.key)).toEqual(['00', '10', '01', '11']);
    expect(c.fullModes.modes.map((m) => m.sampledFrequency)).toEqual([0.25, 0.5, 0, 0.25]);
    // Deviations truth (⅛, ⅛, −⅛, −⅛), sampled (0, ¼, −¼, 0): r = (1/16) / √(⅛ · 1/16) = 1/√2.
    expect(c.fullModes.pearsonR).toBeCloseTo(Math.SQRT1_2, 12);
    expect(c.fullModes.totalVariation).toBeCloseTo(0.25, 12);
    expect(c.flips.map((f) => f.fraction)).toEqual([6 / 8, 3 / 8]);
  });

  it('conditions on the classes present; an image without flippable classes is left out and counted', () => {
    const onlyOne = recordImageFlips([map('5533'), map('1133'), map('1133')], map('1133'), two);
    expect(onlyOne.modes).toEqual([
      { key: '0-', count: 2 },
      { key: '1-', count: 1 },
    ]);
    const none = recordImageFlips([map('3333')], map('3333'), two);
    expect(none.modes).toEqual([{ key: '--', count: 1 }]);
    const c = summarizeFlipCalibration([onlyOne, none], two);
    // Truth 0- ½, 1- ½; sampled ⅔, ⅓ → TV ⅙.
    expect(c.totalVariation).toMatchObject({ images: 1, imagesWithoutFlips: 1 });
    expect(c.totalVariation.mean).toBeCloseTo(1 / 6, 12);
    // 3 draws of a fair coin: TV ½ with probability ¼ (all same), else ⅙ → ¼ · ½ + ¾ · ⅙ = ¼.
    expect(c.totalVariation.floor).toBeCloseTo(0.25, 12);
    expect(c.flips.map((f) => f.images)).toEqual([1, 0]);
    expect(c.flips[1]!.fraction).toBeNaN();
    // No image holds both classes: no table, r undefined (NaN), not 0.
    expect(c.fullModes.images).toBe(0);
    expect(c.fullModes.pearsonR).toBeNaN();
    expect(c.fullModes.totalVariation).toBeNaN();
  });

  it('Pearson r is NaN, not 0, when the sampled frequencies are constant', () => {
    const uniform = recordImageFlips([map('1122'), map('1166'), map('5522'), map('5566')], map('1122'), two);
    expect(summarizeFlipCalibration([uniform], two).fullModes.pearsonR).toBeNaN();
    expect(pearsonCorrelation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearsonCorrelation([1], [1])).toBeNaN();
  });

  it.each([
    [1, [0.5, 0.5], 0.5],
    [2, [0.5, 0.5], 0.25],
    [5, [1, 0], 0],
  ])('expectedTotalVariation(%d draws of %j) = %d', (n, p, tv) => {
    expect(expectedTotalVariation(n, p)).toBeCloseTo(tv, 12);
  });

  it('keys and their conditional probabilities', () => {
    expect(flipModeKeys([true, false, true])).toEqual(['0-0', '0-1', '1-0', '1-1']);
    expect(flipModeProbability('1-0', [...two, { from: 3, to: 7, probability: 0.1 }])).toBeCloseTo(0.5 * 0.9, 12);
    const all = flipModeKeys(CITYSCAPES_FLIPS.map(() => true));
    expect(all).toHaveLength(32);
    expect(all.reduce((s, k) => s + flipModeProbability(k, CITYSCAPES_FLIPS), 0)).toBeCloseTo(1, 12);
  });
});

describe('flip calibration matches numpy (scripts/golden_calibration.py)', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const flips = c.flips as FlipSpec[];
    const records = c.truths.map((t, i) =>
      recordImageFlips(
        c.samples[i]!.map((data) => ({ data, height: c.height, width: c.width })),
        { data: t, height: c.height, width: c.width },
        flips,
        { ignoreLabel: c.ignoreLabel },
      ),
    );
    expect(records).toEqual(c.records);
    const s = summarizeFlipCalibration(records, flips);
    const e = c.expected;
    s.flips.forEach((f, i) => (e.fractions[i] === null ? expect(f.fraction).toBeNaN() : expect(f.fraction).toBeCloseTo(e.fractions[i]!, 12)));
    expect(s.flips.map((f) => f.images)).toEqual(e.classImages);
    expect(s.totalVariation.mean).toBeCloseTo(e.meanTotalVariation, 12);
    expect(s.totalVariation.images).toBe(e.tvImages);
    expect(s.totalVariation.floor).toBeCloseTo(e.tvFloor, 10);
    expect(s.fullModes.images).toBe(e.fullImages);
    expect(s.fullModes.modes.map((m) => m.key)).toEqual(e.fullModes.map((m) => m.key));
    s.fullModes.modes.forEach((m, j) => {
      expect(m.sampledFrequency).toBeCloseTo(e.fullModes[j]!.sampledFrequency, 12);
      expect(m.trueProbability).toBeCloseTo(e.fullModes[j]!.trueProbability, 12);
    });
    expect(s.fullModes.pearsonR).toBeCloseTo(e.pearsonR, 10);
    expect(s.fullModes.totalVariation).toBeCloseTo(e.tableTotalVariation, 12);
    expect(s.fullModes.totalVariationFloor).toBeCloseTo(e.tableFloor, 10);
  });
});

describe('a model that never flips against a calibrated sampler (44 images with all five Cityscapes classes, 16 samples)', () => {
  const truth: LabelMap = { data: CITYSCAPES_FLIPS.map((f) => f.from), height: 1, width: 5 };
  let seed = 11;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const calibrated = () => ({ ...truth, data: CITYSCAPES_FLIPS.map((f) => (rnd() < f.probability ? f.to : f.from)) });
  const images = 44;
  const records = (draw: () => LabelMap) => Array.from({ length: images }, () => recordImageFlips(Array.from({ length: 16 }, draw), truth, CITYSCAPES_FLIPS));
  const good = summarizeFlipCalibration(records(calibrated), CITYSCAPES_FLIPS);
  const never = summarizeFlipCalibration(records(() => truth), CITYSCAPES_FLIPS);
  // 00000 is the most probable combination: 9·10·11·12·13 / 17^5.
  const p00000 = (9 * 10 * 11 * 12 * 13) / 17 ** 5;

  it('the calibrated sampler: r near 1, the table near the truth, per-image TV at its floor', () => {
    expect(good.fullModes.pearsonR).toBeGreaterThan(0.9);
    expect(good.fullModes.totalVariation).toBeLessThan(0.2);
    // The floor for 16 draws over 32 combinations is ≈ 0.51, not 0; a calibrated sampler sits on it.
    expect(good.totalVariation.floor).toBeGreaterThan(0.45);
    expect(Math.abs(good.totalVariation.mean - good.totalVariation.floor)).toBeLessThan(0.05);
  });

  it('never flipping: worse TV and lower r than the calibrated sampler', () => {
    expect(never.fullModes.modes[0]).toEqual({ key: '00000', sampledFrequency: 1, trueProbability: expect.closeTo(p00000, 12) });
    expect(never.totalVariation.mean).toBeCloseTo(1 - p00000, 12);
    expect(never.fullModes.totalVariation).toBeCloseTo(1 - p00000, 12);
    expect(never.totalVariation.mean).toBeGreaterThan(good.totalVariation.mean + 0.3);
    expect(never.fullModes.pearsonR).toBeLessThan(good.fullModes.pearsonR - 0.3);
    // Not ≈ 0: a one-hot on the most probable mode still correlates (r ≈ 0.54); TV is the measure that condemns it.
    expect(never.fullModes.pearsonR).toBeCloseTo(0.539, 3);
    expect(never.flips.every((f) => f.fraction === 0)).toBe(true);
  });
});

describe('bad input', () => {
  const r: ImageFlipRecord = { classPixels: [2, 2], flippedPixels: [0, 0], modes: [{ key: '00', count: 1 }] };
  it.each([
    ['no flips', () => summarizeFlipCalibration([r], []), /flips is empty/],
    ['two flips of one class', () => summarizeFlipCalibration([r], [two[0]!, { ...two[1]!, from: 1 }]), /class 1 is the source of two flips/],
    ['a probability above 1', () => summarizeFlipCalibration([r], [two[0]!, { ...two[1]!, probability: 1.5 }]), /probability 1.5, expected 0..1/],
    ['a record for other flips', () => summarizeFlipCalibration([r], [two[0]!]), /records\[0\] has 2 classes but there are 1 flips/],
    ['a key for an absent class', () => summarizeFlipCalibration([{ ...r, classPixels: [2, 0] }], two), /mode key '00', which does not match its classes present \(x-\)/],
    ['a zero count', () => summarizeFlipCalibration([{ ...r, modes: [{ key: '00', count: 0 }] }], two), /count 0, expected a positive integer/],
    ['samples of another size', () => recordImageFlips([map('11')], map('1122'), two), /samples are 1×2 but unflippedTruth is 1×4/],
    ['no samples', () => recordImageFlips([], map('1122'), two), /samples is empty/],
    ['modeThreshold 1', () => recordImageFlips([map('1122')], map('1122'), two, { modeThreshold: 1 }), /modeThreshold 1 must lie in \[0, 1\)/],
    ['a malformed key', () => flipModeProbability('0x', two), /mode key '0x'/],
  ])('%s', (_name, call, message) => {
    expect(call).toThrow(MetricInputError);
    expect(call).toThrow(message);
  });
});
