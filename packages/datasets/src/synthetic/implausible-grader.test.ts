import { createHash } from 'node:crypto';
import { CITYSCAPES_FLIPS, pairwiseDistances } from '@probunet/metrics';
import { describe, expect, it } from 'vitest';
import { createSyntheticCityscapes, createSyntheticLidc, IMPLAUSIBLE_KINDS, type Example, type IndexedDataset } from '../index.js';
import { flipRows, rollLabels } from './implausible-grader.js';

/** sha256 over every example's id, image bytes, annotations, distribution and meta, in order. */
async function digest(ds: IndexedDataset): Promise<string> {
  const h = createHash('sha256');
  const bytes = (v: unknown): unknown => (ArrayBuffer.isView(v) ? createHash('sha256').update(v as Uint8Array).digest('hex') : v);
  for await (const ex of ds) {
    h.update(ex.id).update(new Uint8Array(ex.image.buffer, ex.image.byteOffset, ex.image.byteLength));
    for (const a of ex.annotations) h.update(a);
    for (const m of ex.distribution ?? []) h.update(`${m.name}:${m.probability}`).update(m.labels);
    h.update(JSON.stringify(ex.meta, (_k, v) => bytes(v)));
  }
  return h.digest('hex');
}

const lidc = (extra: object = {}) => createSyntheticLidc({ count: 12, size: 32, graders: 4, seed: 5, ...extra });
const city = (extra: object = {}) => createSyntheticCityscapes({ count: 4, height: 32, width: 64, graders: 4, seed: 5, ...extra });

/** 1 − IoU (mean over the source's evaluation classes, its empty-pair convention) to every mode. */
function distancesToModes(ex: Example, annotation: Uint8Array, ds: IndexedDataset): number[] {
  const map = (data: Uint8Array) => ({ data, height: ex.height, width: ex.width });
  const { evalClasses: classes, emptyPair, ignoreLabel } = ds.spec;
  return Array.from(pairwiseDistances([map(annotation)], ex.distribution!.map((m) => map(m.labels)), { classes, emptyPair, ignoreLabel }));
}

/** Cityscapes-like: the share of labelled pixels whose class, flips undone, differs from the scene. */
function sceneDisagreement(ex: Example, annotation: Uint8Array): number {
  const unflip = Uint8Array.from({ length: 256 }, (_, v) => CITYSCAPES_FLIPS.find((f) => f.to === v)?.from ?? v);
  const scene = ex.meta.unflipped as Uint8Array | undefined;
  if (!scene) return NaN;
  let n = 0;
  let differ = 0;
  scene.forEach((c, p) => {
    if (c === 255) return;
    n++;
    if (unflip[annotation[p]!] !== c) differ++;
  });
  return differ / n;
}

describe('implausibleGrader option of the synthetic sources', () => {
  // Goldens: this digest of the same datasets computed from the sources at main 9bc3ee4, before the
  // option existed (regenerate: run digest() on that commit). Off by default must change nothing.
  it.each([
    ['lidc-like', lidc, '217b55b02c2767209c0ad4ebfd72f1ea1b4a047cb457bc5f9a0d3574d6c7e7a1'],
    ['cityscapes-like', city, '737596cfc23bdb471387db3a58af4d6e6de2b5cb9ec1477fbc7ac2861e125a14'],
  ])('%s: off by default, byte-identical to the output before the option existed', async (_name, make, golden) => {
    expect(await digest(make())).toBe(golden);
    expect(await digest(make({ implausibleGrader: undefined }))).toBe(golden);
  });

  // How far is far: lidc-like, 1 − IoU of the lesion ≥ 0.9 to every mode (a plausible annotation is
  // a mode: 0). Cityscapes-like, where two plausible modes can be 1 apart in the authors' measure
  // (every evaluation class flips), also ≥ 0.6 of the labelled pixels contradict the scene.
  describe.each([
    ['lidc-like', lidc, 0.9],
    ['cityscapes-like', city, 0.6],
  ] as const)('%s', (name, make, far) => {
    it.each(IMPLAUSIBLE_KINDS)("'%s': exactly one grader per image is replaced, far from every mode; the rest is unchanged", async (kind) => {
      const off = make();
      const on = make({ implausibleGrader: kind });
      for (let i = 0; i < off.length; i++) {
        const a = await off.get(i);
        const b = await on.get(i);
        const g = b.meta.implausibleGrader as number;
        expect(Number.isInteger(g) && g >= 0 && g < 4).toBe(true);
        expect(a.meta.implausibleGrader).toBeUndefined();
        expect(Array.from(b.image)).toEqual(Array.from(a.image));
        b.annotations.forEach((ann, k) => {
          if (k === g) {
            // Implausible: no mode of the true distribution is anywhere near it.
            expect(Math.min(...distancesToModes(b, ann, on))).toBeGreaterThanOrEqual(far);
            if (name === 'cityscapes-like') expect(sceneDisagreement(b, ann)).toBeGreaterThanOrEqual(0.6);
          } else {
            expect(Array.from(ann)).toEqual(Array.from(a.annotations[k]!));
            expect(Math.min(...distancesToModes(b, ann, on))).toBe(0);
            if (name === 'cityscapes-like') expect(sceneDisagreement(b, ann)).toBe(0);
          }
        });
        const modes = (b.meta.graderModes ?? b.meta.flipModes) as string[];
        expect(modes.filter((m) => m.startsWith('implausible-'))).toEqual([`implausible-${kind}`]);
        expect(modes.indexOf(`implausible-${kind}`)).toBe(g);
      }
    });
  });

  it('draws the implausible grader uniformly over the graders', async () => {
    const ds = createSyntheticLidc({ count: 400, size: 32, graders: 4, seed: 1, implausibleGrader: 'shifted' });
    const counts = [0, 0, 0, 0];
    for await (const ex of ds) counts[ex.meta.implausibleGrader as number]!++;
    // Binomial(400, 1/4): s.d. 8.7; allow 4 of them around 100.
    for (const c of counts) expect(Math.abs(c - 100)).toBeLessThan(35);
  });

  it('rejects a bad kind, a single grader, and modes without a lesion', () => {
    expect(() => createSyntheticLidc({ implausibleGrader: 'upside-down' as never })).toThrow(/implausibleGrader must be one of shifted, inverted/);
    expect(() => createSyntheticCityscapes({ implausibleGrader: 'shifted' })).toThrow(/at least 2 graders per image.*graders: 1/);
    expect(() => createSyntheticLidc({ modes: [{ name: 'none', scale: 0, probability: 1 }], implausibleGrader: 'inverted' })).toThrow(/a mode with a lesion/);
  });

  it('rollLabels and flipRows move pixels where they should (hand-computed 2×3 map)', () => {
    const m = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(rollLabels(m, 2, 3, 1, 1))).toEqual([6, 4, 5, 3, 1, 2]);
    expect(Array.from(rollLabels(m, 2, 3, 0, -1))).toEqual([2, 3, 1, 5, 6, 4]);
    expect(Array.from(flipRows(m, 2, 3))).toEqual([4, 5, 6, 1, 2, 3]);
  });
});
