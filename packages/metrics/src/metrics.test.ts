import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/golden.json' with { type: 'json' };
import {
  MetricAccumulator,
  MetricInputError,
  generalizedEnergyDistance,
  hungarianMatchedIoU,
  iou,
  solveAssignment,
  type LabelMap,
} from './index.js';

/** A map from rows of digits, e.g. map('0110', '0010'). */
function map(...rows: string[]): LabelMap {
  return { height: rows.length, width: rows[0]!.length, data: rows.join('').split('').map(Number) };
}
const empty = map('0000', '0000');
const full = map('1111', '1111');

describe('iou: hand-computable cases', () => {
  it.each([
    ['identical', map('0110', '0010'), map('0110', '0010'), {}, 1],
    ['all full vs all full', full, full, {}, 1],
    ['all empty vs all full', empty, full, {}, 0],
    ['one pixel vs all full', map('1000', '0000'), full, {}, 1 / 8],
    ['half overlap', map('1100', '0000'), map('0110', '0000'), {}, 1 / 3],
    ['disjoint', map('1100', '0000'), map('0011', '0000'), {}, 0],
    ['both empty, emptyPair one', empty, empty, { emptyPair: 'one' }, 1],
    ['both empty, emptyPair nan', empty, empty, { emptyPair: 'nan' }, NaN],
    ['class 0 of a half overlap', map('1100', '0000'), map('0110', '0000'), { classId: 0 }, 5 / 7],
    ['ignored pixels left out', map('1192', '0000'), map('1912', '0000'), { ignoreLabel: 9 }, 1 / 1],
  ] as const)('%s', (_name, a, b, opts, expected) => {
    const v = iou(a, b, opts);
    if (Number.isNaN(expected)) expect(v).toBeNaN();
    else expect(v).toBeCloseTo(expected, 12);
  });

  it('is symmetric and within [0, 1] on random maps', () => {
    let s = 1;
    const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
    for (let k = 0; k < 50; k++) {
      const a = { height: 7, width: 37, data: Array.from({ length: 259 }, () => (rnd() < 0.3 ? 1 : 0)) };
      const b = { height: 7, width: 37, data: Array.from({ length: 259 }, () => (rnd() < 0.5 ? 1 : 0)) };
      const v = iou(a, b);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      expect(iou(b, a)).toBe(v);
    }
  });
});

describe('generalizedEnergyDistance', () => {
  it('is 0 for a set against itself (uniform weights), diagonal included', () => {
    const ys = [map('1100', '0000'), map('0011', '0011'), empty];
    const r = generalizedEnergyDistance(ys, ys);
    expect(r.ged).toBeCloseTo(0, 12);
    expect(r.sampleDiversity).toBeCloseTo(r.truthDiversity, 12);
  });

  it('hand-computed: two disjoint truths, one sample equal to the first', () => {
    // d(S,Y1)=0, d(S,Y2)=1 → cross 1/2; samples: one → 0; truths: [[0,1],[1,0]]/4 → 1/2. GED = 1 − 0 − 1/2.
    const y1 = map('1100');
    const y2 = map('0011');
    expect(generalizedEnergyDistance([y1], [y1, y2])).toEqual({ ged: 0.5, crossDistance: 0.5, sampleDiversity: 0, truthDiversity: 0.5 });
    // Weighted 0.75/0.25: cross 0.25, truth diversity 2·0.75·0.25 = 0.375, GED 0.125.
    const w = generalizedEnergyDistance([y1], [y1, y2], { truthWeights: [0.75, 0.25] });
    expect(w.crossDistance).toBeCloseTo(0.25, 12);
    expect(w.truthDiversity).toBeCloseTo(0.375, 12);
    expect(w.ged).toBeCloseTo(0.125, 12);
  });

  it('both-empty pairs: 0 under "one"; under "nan" they propagate (authors\' code) or are skipped', () => {
    const one = generalizedEnergyDistance([empty, full], [empty], { emptyPair: 'one' });
    expect(one.crossDistance).toBe(0.5); // d(empty,empty)=0, d(full,empty)=1
    const skip = generalizedEnergyDistance([empty, full], [empty], { emptyPair: 'nan', nanPairs: 'skip' });
    expect(skip.crossDistance).toBe(1); // only d(full, empty) = 1 is defined
    expect(skip.truthDiversity).toBeNaN(); // d(empty, empty) undefined
    expect(skip.ged).toBeNaN();
    const authors = generalizedEnergyDistance([empty, full], [empty], { emptyPair: 'nan' });
    expect(authors.crossDistance).toBeNaN(); // a plain mean over d(empty, empty) = NaN and 1
    expect(authors.sampleDiversity).toBeNaN(); // d(empty, empty) on the diagonal
  });

  it.each([
    // samples: one full, one empty; truths: full and half. Sample–sample has d(empty, empty) = NaN.
    ['propagate: one NaN pair makes the GED NaN', 'propagate', [full, empty], [full, map('1100', '1100')], { ged: NaN, crossDistance: 0.625, sampleDiversity: NaN, truthDiversity: 0.25 }],
    // cross (0 + 0.5 + 1 + 1)/4; skip: ss over the three finite pairs (0, 1, 1) → 2/3.
    ['skip: NaN pairs left out, weights renormalised', 'skip', [full, empty], [full, map('1100', '1100')], { ged: 1.25 - 2 / 3 - 0.25, crossDistance: 0.625, sampleDiversity: 2 / 3, truthDiversity: 0.25 }],
    // Truths both empty: every truth pair NaN → the truth–truth term is NaN even when skipping.
    ['truth–truth skips NaN, all NaN is NaN', 'propagate', [full], [empty, empty], { ged: NaN, crossDistance: 1, sampleDiversity: 0, truthDiversity: NaN }],
    // One empty truth among two: the truth–truth term skips d(empty, empty) (authors' nanmean).
    ['truth–truth term is a NaN-skipping mean', 'propagate', [full], [full, empty], { ged: 2 * 0.5 - 0 - 0.5 / 0.75, crossDistance: 0.5, sampleDiversity: 0, truthDiversity: 0.5 / 0.75 }],
  ] as const)('emptyPair nan, %s', (_name, nanPairs, samples, truths, expected) => {
    const r = generalizedEnergyDistance([...samples], [...truths], { emptyPair: 'nan', nanPairs });
    for (const key of ['ged', 'crossDistance', 'sampleDiversity', 'truthDiversity'] as const) {
      if (Number.isNaN(expected[key])) expect(r[key], key).toBeNaN();
      else expect(r[key], key).toBeCloseTo(expected[key], 12);
    }
  });

  it('a NaN image is dropped from the dataset mean and counted', () => {
    const acc = new MetricAccumulator();
    acc.add(generalizedEnergyDistance([full, empty], [full], { emptyPair: 'nan' }).ged, 'a');
    acc.add(generalizedEnergyDistance([full, full], [full], { emptyPair: 'nan' }).ged, 'b');
    expect(acc.summary()).toMatchObject({ mean: 0, count: 1, nanCount: 1 });
    expect(() => generalizedEnergyDistance([full], [full], { nanPairs: 'drop' as never })).toThrow(/nanPairs must be 'propagate' or 'skip'/);
  });

  describe('matches independently computed golden values', () => {
    it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const toMap = (data: number[]) => ({ data, height: c.height, width: c.width });
      const r = generalizedEnergyDistance(c.samples.map(toMap), c.truths.map(toMap), c.options as never);
      for (const key of ['ged', 'crossDistance', 'sampleDiversity', 'truthDiversity'] as const) {
        const expected = c.ged[key] as number | null; // null: NaN in the JSON
        if (expected === null) expect(r[key], key).toBeNaN();
        else expect(r[key], key).toBeCloseTo(expected, 10);
      }
      if ('hungarianMatchedIoU' in c) {
        const { classes, emptyPair } = c.options;
        expect(hungarianMatchedIoU(c.samples.map(toMap), c.truths.map(toMap), { classes, emptyPair: emptyPair as 'one' | 'nan' })).toBeCloseTo(
          c.hungarianMatchedIoU as number,
          10,
        );
      }
    });
  });

  it.each([
    ['sizes differ', () => generalizedEnergyDistance([map('11')], [map('1', '1')]), /samples are 1×2 but truths are 2×1/],
    ['empty samples', () => generalizedEnergyDistance([], [full]), /samples is empty/],
    ['empty truths', () => generalizedEnergyDistance([full], []), /truthWeights|truths is empty/],
    ['weights of the wrong length', () => generalizedEnergyDistance([full], [full], { truthWeights: [0.5, 0.5] }), /2 entries for 1 truths/],
    ['weights not summing to 1', () => generalizedEnergyDistance([full], [full, empty], { truthWeights: [0.5, 0.6] }), /must sum to 1, they sum to 1.1/],
    ['negative label', () => generalizedEnergyDistance([{ height: 1, width: 2, data: [0, -1] }], [map('11')]), /label -1 at pixel 1/],
    ['non-integer label', () => generalizedEnergyDistance([{ height: 1, width: 2, data: [0, 0.5] }], [map('11')]), /label 0.5 at pixel 1/],
    ['data length', () => generalizedEnergyDistance([{ height: 2, width: 2, data: [0] }], [full]), /has 1 labels but its size 2×2 needs 4/],
    ['bad emptyPair', () => generalizedEnergyDistance([full], [full], { emptyPair: 'zero' as never }), /emptyPair must be 'one' or 'nan'/],
  ])('rejects bad input: %s', (_name, call, message) => {
    expect(call).toThrow(MetricInputError);
    expect(call).toThrow(message);
  });
});

describe('hungarianMatchedIoU', () => {
  it('hand-computed: samples are a permutation of the truths → 1', () => {
    const ys = [map('1100'), map('0011'), map('0110')];
    expect(hungarianMatchedIoU([ys[2]!, ys[0]!, ys[1]!], ys)).toBe(1);
  });

  it('repeats truths cyclically: 4 samples, 2 truths', () => {
    const y1 = map('1100');
    const y2 = map('0011');
    // Three copies of y1 and one of y2 against [y1, y2, y1, y2]: one y1 must match a y2 (IoU 0).
    expect(hungarianMatchedIoU([y1, y1, y1, y2], [y1, y2])).toBeCloseTo(3 / 4, 12);
  });

  it('rejects a sample count that is not a multiple of the truth count', () => {
    expect(() => hungarianMatchedIoU([full, full, full], [full, empty])).toThrow(/use 4 samples/);
  });

  it('solveAssignment finds the optimum of a classic 4×4 case', () => {
    const cost = [9, 2, 7, 8, 6, 4, 3, 7, 5, 8, 1, 8, 7, 6, 9, 4]; // optimum 2+6+1+4 = 13
    const a = solveAssignment(cost, 4);
    expect(Array.from(a)).toEqual([1, 0, 2, 3]);
  });
});

describe('MetricAccumulator', () => {
  it('aggregates mean and median, dropping and counting NaN', () => {
    const acc = new MetricAccumulator();
    [0.4, NaN, 0.1, 0.3, 0.2].forEach((v, i) => acc.add(v, `img${i}`));
    const s = acc.summary();
    expect(s.mean).toBeCloseTo(0.25, 12);
    expect(s.median).toBeCloseTo(0.25, 12);
    expect(s.count).toBe(4);
    expect(s.nanCount).toBe(1);
    expect(s.values[1]).toEqual({ id: 'img1', value: NaN });
    expect(() => acc.add(Infinity)).toThrow(/finite number or NaN/);
  });
});
