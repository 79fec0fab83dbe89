import { describe, expect, it } from 'vitest';
import { openStudyData, studyPlan } from '../src/commands/reproduce-plan.js';

/** Person pixels (class 11) over the first `n` images' first annotations. */
async function personPixels(plan: ReturnType<typeof studyPlan>, n: number): Promise<number> {
  const data = openStudyData(plan, 'train');
  let count = 0;
  for (let i = 0; i < n; i++) {
    const ex = await data.get(i);
    for (const v of ex.annotations[0]!) if (v === 11) count++;
  }
  return count;
}

describe('reproduce plan', () => {
  it('cityscapes-like full: the authors’ rate halved at 75 %, and persons twice the size in the data it opens', async () => {
    const full = studyPlan('cityscapes-like', 'full', 0);
    expect(full.training.learningRate).toEqual({ boundaries: [Math.floor(full.training.steps * 0.75)], values: [1e-4, 5e-5] });
    expect(full.data.personScale).toBe(2);
    const quick = studyPlan('cityscapes-like', 'quick', 0);
    expect(quick.data.personScale).toBeUndefined();
    // Same seed, same images: only the persons' extent differs, so the full plan's data has more person pixels.
    const same = { ...quick, data: { ...quick.data, height: full.data.height, width: full.data.width } };
    const bigger = await personPixels(full, 20);
    const baseline = await personPixels(same, 20);
    expect(baseline).toBeGreaterThan(0);
    expect(bigger).toBeGreaterThan(2 * baseline);
  });

  it('lidc-like and the quick budgets keep the short schedule: 1e-3, dropping to 2.5e-4 at 80 %', () => {
    for (const [task, budget] of [['lidc-like', 'full'], ['lidc-like', 'quick'], ['cityscapes-like', 'quick']] as const) {
      const p = studyPlan(task, budget, 0);
      expect(p.training.learningRate).toEqual({ boundaries: [Math.floor(p.training.steps * 0.8)], values: [1e-3, 2.5e-4] });
    }
  });
});
