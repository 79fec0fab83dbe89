import { classMasks, intersectionCount, type ClassMask } from './class-masks.js';
import { checkSameSize, ignoreMaskOf, MetricInputError, type LabelMap } from './label-map.js';

/**
 * What the IoU of a class absent from both maps is.
 * - `'one'`: IoU 1, distance 0 (LIDC practice: PHiSeg, SSN, CAR, MoSE).
 * - `'nan'`: undefined; the class is left out of the mean over classes, and a pair with no class
 *   left has distance NaN (the authors' Cityscapes code).
 */
export type EmptyPair = 'one' | 'nan';

export interface IoUOptions {
  /** The class whose IoU is measured. Default 1 (the foreground of a binary mask). */
  classId?: number;
  /** Default `'one'`. */
  emptyPair?: EmptyPair;
  /** Pixels with this label in either map are left out of every count. */
  ignoreLabel?: number;
}

export function checkEmptyPair(e: unknown): EmptyPair {
  if (e !== 'one' && e !== 'nan') throw new MetricInputError(`emptyPair must be 'one' or 'nan', got ${JSON.stringify(e)}`);
  return e;
}

export function checkClasses(classes: readonly number[]): number[] {
  if (!Array.isArray(classes) || classes.length === 0) throw new MetricInputError('classes must be a non-empty list of class indices');
  for (const c of classes) {
    if (!Number.isInteger(c) || c < 0) throw new MetricInputError(`classes must be non-negative integers, got ${c}`);
  }
  if (new Set(classes).size !== classes.length) throw new MetricInputError(`classes lists a class twice: ${classes.join(', ')}`);
  return [...classes];
}

/** IoU of one class from two masks; NaN when the class is absent from both and emptyPair is 'nan'. */
export function maskIoU(a: ClassMask, b: ClassMask, emptyPair: EmptyPair): number {
  return iouOfCounts(intersectionCount(a, b), a.count, b.count, emptyPair);
}

/** IoU from |A ∩ B|, |A| and |B|. */
export function iouOfCounts(inter: number, countA: number, countB: number, emptyPair: EmptyPair): number {
  const union = countA + countB - inter;
  if (union === 0) return emptyPair === 'one' ? 1 : NaN;
  return inter / union;
}

/**
 * Intersection over union of one class in two label maps of the same size.
 * One map empty in that class and the other not: 0. Both empty: see `emptyPair`.
 */
export function iou(a: LabelMap, b: LabelMap, opts: IoUOptions = {}): number {
  const classId = opts.classId ?? 1;
  checkClasses([classId]);
  const emptyPair = checkEmptyPair(opts.emptyPair ?? 'one');
  const pixels = checkSameSize([a, b], 'iou maps');
  const ignore = ignoreMaskOf([a, b], opts.ignoreLabel, pixels);
  const [ma] = classMasks(a, [classId], ignore, 'iou maps[0]');
  const [mb] = classMasks(b, [classId], ignore, 'iou maps[1]');
  return maskIoU(ma!, mb!, emptyPair);
}
