import { distanceMatrix } from './distance-matrix.js';
import { encodeSet, type DistanceOptions } from './encoded-set.js';
import { solveAssignment } from './hungarian.js';
import { MetricInputError, type LabelMap } from './label-map.js';

/**
 * Hungarian-matched IoU (later LIDC papers): the m truths are repeated cyclically to n (n must be a
 * multiple of m), samples are matched one-to-one to the repeated truths minimising Σ (1 − IoU),
 * and the mean IoU of the matched pairs is returned. IoU here is 1 − d with d averaged over
 * `classes`. Under emptyPair 'nan', NaN pairs cost 0 in the matching (nothing to tell them apart)
 * and are left out of the mean; all NaN gives NaN.
 */
export function hungarianMatchedIoU(samples: LabelMap[], truths: LabelMap[], opts: DistanceOptions = {}): number {
  const n = samples.length;
  const m = truths.length;
  if (m > 0 && n % m !== 0) {
    throw new MetricInputError(
      `hungarianMatchedIoU repeats the ${m} truths to match ${n} samples, which needs n to be a multiple of m: use ${Math.ceil(n / m) * m} samples`,
    );
  }
  const enc = encodeSet(samples, truths, opts);
  const d = distanceMatrix(enc, enc.samples, enc.truths);
  const cost = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = d[i * m + (j % m)]!;
      cost[i * n + j] = Number.isNaN(v) ? 0 : v;
    }
  }
  const assignment = solveAssignment(cost, n);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = d[i * m + (assignment[i]! % m)]!;
    if (Number.isNaN(v)) continue;
    sum += 1 - v;
    count++;
  }
  return count === 0 ? NaN : sum / count;
}
