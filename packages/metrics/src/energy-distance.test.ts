import { describe, expect, it } from 'vitest';
import { generalizedEnergyDistance, hungarianMatchedIoU, type EnergyDistanceOptions, type LabelMap } from './index.js';

/** The definition, pixel by pixel: d = mean over classes of 1 − IoU, V-statistic with weights. */
function referenceGed(samples: LabelMap[], truths: LabelMap[], opts: EnergyDistanceOptions) {
  const classes = opts.classes ?? [1];
  const pixels = samples[0]!.data.length;
  const ignored = (p: number) => opts.ignoreLabel !== undefined && truths.some((t) => t.data[p] === opts.ignoreLabel);
  const d = (a: LabelMap, b: LabelMap) => {
    let sum = 0;
    let n = 0;
    for (const c of classes) {
      let inter = 0;
      let union = 0;
      for (let p = 0; p < pixels; p++) {
        if (ignored(p)) continue;
        const x = a.data[p] === c;
        const y = b.data[p] === c;
        if (x && y) inter++;
        if (x || y) union++;
      }
      if (union === 0 && opts.emptyPair === 'nan') continue;
      sum += union === 0 ? 0 : 1 - inter / union;
      n++;
    }
    return n === 0 ? NaN : sum / n;
  };
  // nanPairs 'propagate' (the default): plain means for cross and sample terms; truth term skips.
  const skipAll = opts.nanPairs === 'skip';
  const mean = (xs: LabelMap[], wx: number[], ys: LabelMap[], wy: number[], skip = skipAll) => {
    let s = 0;
    let w = 0;
    xs.forEach((x, i) =>
      ys.forEach((y, j) => {
        const v = d(x, y);
        if (Number.isNaN(v) && skip) return;
        s += wx[i]! * wy[j]! * v;
        w += wx[i]! * wy[j]!;
      }),
    );
    return w === 0 ? NaN : s / w;
  };
  const un = samples.map(() => 1 / samples.length);
  const wt = opts.truthWeights ?? truths.map(() => 1 / truths.length);
  const cross = mean(samples, un, truths, wt);
  const ss = mean(samples, un, samples, un);
  const tt = mean(truths, wt, truths, wt, true);
  return { ged: 2 * cross - ss - tt, crossDistance: cross, sampleDiversity: ss, truthDiversity: tt };
}

function expectSame(a: Record<string, number>, b: Record<string, number>) {
  for (const key of ['ged', 'crossDistance', 'sampleDiversity', 'truthDiversity']) {
    if (Number.isNaN(b[key])) expect(a[key], key).toBeNaN();
    else expect(Math.abs(a[key]! - b[key]!), key).toBeLessThan(1e-12);
  }
}

describe('generalizedEnergyDistance on random sets', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;

  /** Maps of regions and noise, some repeated exactly and some empty, as byte maps. */
  function randomSet(count: number, h: number, w: number, labels: number[], pool: Uint8Array[]): LabelMap[] {
    return Array.from({ length: count }, () => {
      if (pool.length > 0 && rnd() < 0.3) return { height: h, width: w, data: pick(pool) };
      const data = new Uint8Array(h * w);
      if (rnd() > 0.15) {
        let v = pick(labels);
        for (let p = 0; p < data.length; p++) {
          if (rnd() < 0.03) v = pick(labels);
          data[p] = rnd() < 0.05 ? pick(labels) : v;
        }
      }
      pool.push(data);
      return { height: h, width: w, data };
    });
  }

  it.each<[string, number[], EnergyDistanceOptions & { weighted?: boolean }]>([
    ['binary, LIDC conventions', [0, 1], {}],
    ['binary, emptyPair nan', [0, 1], { emptyPair: 'nan' }],
    ['binary, emptyPair nan, NaN pairs skipped', [0, 1], { emptyPair: 'nan', nanPairs: 'skip' }],
    ['three classes, ignore label, nan', [0, 1, 2, 9], { classes: [0, 1, 2], ignoreLabel: 9, emptyPair: 'nan' }],
    ['ignore label among the classes', [0, 1, 9], { classes: [1, 9], ignoreLabel: 9 }],
    ['weighted truths', [0, 1, 2], { classes: [1, 2], weighted: true }],
  ])('%s: the definition computed pixel by pixel', (_name, labels, o) => {
    for (let k = 0; k < 12; k++) {
      const [h, w] = pick([[9, 37], [16, 64], [3, 32]] as const);
      const pool: Uint8Array[] = [];
      const samples = randomSet(1 + Math.floor(rnd() * 6), h, w, labels, pool);
      const truths = randomSet(1 + Math.floor(rnd() * 5), h, w, labels, pool);
      const { weighted, ...rest } = o;
      const raw = truths.map(() => rnd() + 0.1);
      const total = raw.reduce((a, b) => a + b, 0);
      const opts: EnergyDistanceOptions = weighted ? { ...rest, truthWeights: raw.map((x) => x / total) } : rest;
      const expected = referenceGed(samples, truths, opts);
      expectSame(generalizedEnergyDistance(samples, truths, opts) as never, expected);
      // The same maps as plain arrays take the generic encoding path.
      const plain = (m: LabelMap) => ({ ...m, data: Array.from(m.data) });
      expectSame(generalizedEnergyDistance(samples.map(plain), truths.map(plain), opts) as never, expected);
    }
  });

  it('hand-computed: repeated masks share their counts and keep their values', () => {
    const y = { height: 1, width: 4, data: new Uint8Array([1, 1, 0, 0]) };
    const z = { height: 1, width: 4, data: new Uint8Array([0, 1, 1, 0]) };
    // Samples [y, y, z], truths [y, z, z]: d(y,z) = 1 − 1/3 = 2/3.
    // cross: (0 + 2/3 + 2/3)·2 + (2/3 + 0 + 0) = 10/3 over 9 → 10/27; samples: 4 · 2/3 / 9 = 8/27; truths: 8/27.
    const r = generalizedEnergyDistance([y, y, z], [y, z, z]);
    expect(r.crossDistance).toBeCloseTo(10 / 27, 12);
    expect(r.sampleDiversity).toBeCloseTo(8 / 27, 12);
    expect(r.truthDiversity).toBeCloseTo(8 / 27, 12);
    expect(r.ged).toBeCloseTo(4 / 27, 12);
    expect(hungarianMatchedIoU([z, y, z], [y, z, z])).toBe(1);
  });

  it('masks whose hashes collide are still told apart', () => {
    // Two 64-pixel masks with equal counts (17) whose word hashes collide under encodeSet's hash
    // (mirrored here, so that a change of hash shows up as this check failing, not as a silent pass).
    const words = [
      [1, 0xffff],
      [5, 2300765755],
    ];
    const hash = (ws: number[]) => ws.reduce((h, x, w) => Math.imul(h ^ x, 0x9e3779b1) + w, 0) | 0;
    expect(hash(words[0]!)).toBe(hash(words[1]!));
    const [a, b] = words.map((ws) => ({ height: 1, width: 64, data: Uint8Array.from({ length: 64 }, (_, p) => (ws[p >>> 5]! >>> (p & 31)) & 1) }));
    const r = generalizedEnergyDistance([a!], [b!]);
    expect(r.crossDistance).toBeCloseTo(referenceGed([a!], [b!], {}).crossDistance, 12);
    expect(r.crossDistance).toBeGreaterThan(0);
  });

  it('calls do not share state: an image after a larger one gives its own result', () => {
    const big = { height: 64, width: 64, data: new Uint8Array(4096).fill(1) };
    const a = { height: 1, width: 2, data: new Uint8Array([1, 0]) };
    const b = { height: 1, width: 2, data: new Uint8Array([1, 1]) };
    const before = generalizedEnergyDistance([a], [b]);
    generalizedEnergyDistance([big, big], [big], { classes: [0, 1] });
    expect(generalizedEnergyDistance([a], [b])).toEqual(before);
    expect(before.crossDistance).toBe(0.5);
    // A call stopped by bad input halfway through its maps, and one with an ignore label.
    expect(() => generalizedEnergyDistance([big], [big, { height: 64, width: 64, data: new Array<number>(4096).fill(-1) }])).toThrow(/label -1/);
    expect(generalizedEnergyDistance([a], [b])).toEqual(before);
    generalizedEnergyDistance([big], [{ height: 64, width: 64, data: new Uint8Array(4096).fill(7) }], { classes: [0, 1], ignoreLabel: 7, emptyPair: 'nan' });
    expect(generalizedEnergyDistance([a], [b])).toEqual(before);
  });
});
