import { describe, expect, it } from 'vitest';
import golden from './__fixtures__/golden-uncertainty.json' with { type: 'json' };
import {
  MetricInputError,
  expectedCalibrationError,
  hungarianMatchedIoU,
  normalizedCrossCorrelation,
  reliabilityBins,
  solveTransport,
  transportMatchedIoU,
  uncertaintyMaps,
  type LabelMap,
  type ProbabilityMap,
} from './index.js';

/** A map from rows of digits, e.g. map('0110', '0010'). */
function map(...rows: string[]): LabelMap {
  return { height: rows.length, width: rows[0]!.length, data: rows.join('').split('').map(Number) };
}
const fromRows = (rows: number[][]): LabelMap => ({ height: rows.length, width: rows[0]!.length, data: rows.flat() });
const probs = (data: number[], height: number, width: number, channels: number): ProbabilityMap => ({ data, height, width, channels });

let seed = 7;
const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const randomMap = (h: number, w: number, p: number): LabelMap => ({ height: h, width: w, data: Array.from({ length: h * w }, () => (rnd() < p ? 1 : 0)) });
const randomProbs = (h: number, w: number, c: number): ProbabilityMap => {
  const data: number[] = [];
  for (let k = 0; k < h * w; k++) {
    const raw = Array.from({ length: c }, () => rnd() ** 2 + 1e-3);
    const s = raw.reduce((a, b) => a + b, 0);
    data.push(...raw.map((x) => x / s));
  }
  return probs(data, h, w, c);
};

describe('normalizedCrossCorrelation', () => {
  it.each(golden.ncc.map((c) => [c.name, c] as const))('matches PHiSeg numpy: %s', (_n, c) => {
    const truths = c.truths.map(fromRows);
    const samples =
      'probabilities' in c && c.probabilities
        ? c.probabilities.map((d) => probs(d, c.height!, c.width!, c.numClasses))
        : c.samples!.map(fromRows);
    expect(normalizedCrossCorrelation(samples, truths, { numClasses: c.numClasses })).toBeCloseTo(c.value, 9);
  });

  it('hand case: one grader, E_ss and E_sy proportional give 1', () => {
    // Two samples disagree on pixel 0 only; the grader agrees with sample 0 everywhere.
    // E_ss = −log ε·(1 − Σ p²): 0.5·(−log ε) at pixel 0, 0 elsewhere (up to log(1+ε)).
    // E_sy = −log ε·(1 − p(g)): 0.5·(−log ε) at pixel 0, 0 elsewhere → correlation 1.
    const samples = [map('10', '00'), map('00', '00')];
    expect(normalizedCrossCorrelation(samples, [map('10', '00')], { numClasses: 2 })).toBeCloseTo(1, 12);
  });

  it('a deterministic model (all samples equal) gives NaN: E_ss is constant, its correlation undefined', () => {
    const s = map('0110', '0010');
    expect(normalizedCrossCorrelation([s, s, s], [map('0100', '0010'), s], { numClasses: 2 })).toBeNaN();
  });

  it('stays in [−1, 1] on random label and probability samples', () => {
    for (let k = 0; k < 20; k++) {
      const truths = [randomMap(5, 6, 0.4), randomMap(5, 6, 0.4), randomMap(5, 6, 0.4)];
      for (const samples of [[randomMap(5, 6, 0.3), randomMap(5, 6, 0.5), randomMap(5, 6, 0.5)], [randomProbs(5, 6, 2), randomProbs(5, 6, 2)]]) {
        const v = normalizedCrossCorrelation(samples, truths, { numClasses: 2 });
        if (Number.isNaN(v)) continue;
        expect(v).toBeGreaterThanOrEqual(-1);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  });

  it('leaves ignored pixels out and rejects bad input', () => {
    const samples = [map('109', '00'.padEnd(3, '0')), map('000', '000')];
    const truths = [map('109', '000')];
    expect(() => normalizedCrossCorrelation(samples, truths, { numClasses: 2 })).toThrow(MetricInputError);
    expect(normalizedCrossCorrelation([map('100', '000'), map('000', '000')], [map('109', '000')], { numClasses: 2, ignoreLabel: 9 })).toBeCloseTo(1, 12);
    expect(() => normalizedCrossCorrelation([probs([1, 0], 1, 1, 2)], [map('0')], { numClasses: 3 })).toThrow(/channels/);
  });
});

describe('expectedCalibrationError', () => {
  it.each(golden.ece.map((c) => [c.name, c] as const))('matches numpy: %s', (_n, c) => {
    const truths = c.truths.map(fromRows);
    const samples =
      'probabilities' in c && c.probabilities ? c.probabilities.map((d) => probs(d, c.height!, c.width!, c.numClasses!)) : c.samples!.map(fromRows);
    expect(expectedCalibrationError(samples, truths, { bins: c.bins })).toBeCloseTo(c.value, 12);
  });

  it.each([
    ['perfectly calibrated', [map('10'), map('00')], [map('00'), map('10')], 0],
    // pixel 0: prediction 1, target 0 → bin 9 (1 falls in the last bin); pixel 1: 0 vs 0.
    ['confidently wrong on one of two pixels', [map('10'), map('10')], [map('00'), map('00')], 0.5],
    // pixel 0: 0.5 vs 1 (bin 5), pixel 1: 0.5 vs 0 (bin 5): the bin's means agree.
    ['errors cancel inside one bin', [map('11'), map('00')], [map('10'), map('10')], 0],
    ['all wrong', [map('11')], [map('00')], 1],
  ])('%s', (_n, samples, truths, expected) => {
    expect(expectedCalibrationError(samples, truths)).toBeCloseTo(expected, 12);
  });

  it('stays in [0, 1]; bins partition the pixels; ignored pixels count nowhere', () => {
    for (let k = 0; k < 20; k++) {
      const samples = [randomMap(4, 9, 0.3), randomMap(4, 9, 0.6), randomMap(4, 9, 0.5)];
      const truths = [randomMap(4, 9, 0.5), randomMap(4, 9, 0.2)];
      const v = expectedCalibrationError(samples, truths, { bins: 7 });
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      expect(reliabilityBins(samples, truths, { bins: 7 }).reduce((a, b) => a + b.count, 0)).toBe(36);
    }
    expect(reliabilityBins([map('11')], [map('19')], { ignoreLabel: 9 }).reduce((a, b) => a + b.count, 0)).toBe(1);
    expect(() => expectedCalibrationError([map('1')], [map('1')], { bins: 0 })).toThrow(MetricInputError);
  });
});

describe('uncertaintyMaps', () => {
  it.each(golden.maps.map((c) => [c.name, c] as const))('matches numpy: %s', (_n, c) => {
    const fromLabels = uncertaintyMaps(c.samples.map(fromRows), { numClasses: c.numClasses });
    fromLabels.entropy.forEach((v, i) => expect(v).toBeCloseTo(c.labelEntropy[i]!, 6));
    expect(fromLabels.mutualInformation).toBeUndefined();
    const fromProbs = uncertaintyMaps(
      c.probabilities.map((d) => probs(d, c.height, c.width, c.numClasses)),
      { numClasses: c.numClasses },
    );
    fromProbs.entropy.forEach((v, i) => expect(v).toBeCloseTo(c.entropy[i]!, 6));
    fromProbs.expectedEntropy!.forEach((v, i) => expect(v).toBeCloseTo(c.expectedEntropy[i]!, 6));
    fromProbs.mutualInformation!.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeCloseTo(Math.max(0, c.mutualInformation[i]!), 6);
    });
  });

  it('hand case: frequencies, entropy log 2 where two samples disagree, 0 where they agree', () => {
    const u = uncertaintyMaps([map('10'), map('00')], { numClasses: 2 });
    expect(Array.from(u.frequencies)).toEqual([0.5, 0.5, 1, 0]);
    expect(u.entropy[0]).toBeCloseTo(Math.log(2), 6);
    expect(u.entropy[1]).toBe(0);
  });

  it('identical probability samples have mutual information 0', () => {
    const p = randomProbs(3, 3, 4);
    const u = uncertaintyMaps([p, p, p], { numClasses: 4 });
    u.mutualInformation!.forEach((v) => expect(v).toBeCloseTo(0, 6));
  });
});

describe('transportMatchedIoU and solveTransport', () => {
  it.each(golden.transport.map((c) => [c.name, c] as const))('matches scipy linprog: %s', (_n, c) => {
    const v = transportMatchedIoU(c.samples.map(fromRows), c.truths.map(fromRows), { truthWeights: c.truthWeights });
    expect(v).toBeCloseTo(c.value, 9);
  });

  it('with uniform weights equals Hungarian repeat-and-match', () => {
    for (let k = 0; k < 10; k++) {
      const samples = Array.from({ length: 8 }, () => randomMap(6, 6, 0.4));
      const truths = Array.from({ length: 4 }, () => randomMap(6, 6, 0.4));
      const hm = hungarianMatchedIoU(samples, truths);
      expect(transportMatchedIoU(samples, truths, { truthWeights: [0.25, 0.25, 0.25, 0.25] })).toBeCloseTo(hm, 12);
      expect(transportMatchedIoU(samples, truths)).toBe(hm);
    }
  });

  it('hand case: the plan sends each mass to its cheapest feasible place', () => {
    // a = [1/2, 1/2], b = [3/4, 1/4]; cost favours row 0 → col 0 and row 1 → col 1.
    const plan = solveTransport([0, 1, 1, 0], [0.5, 0.5], [0.75, 0.25]);
    expect(Array.from(plan).map((x) => Math.round(x * 1e12) / 1e12)).toEqual([0.5, 0, 0.25, 0.25]);
    expect(() => solveTransport([0, 0], [1], [0.5, 0.4])).toThrow(/sum to 1/);
  });
});
