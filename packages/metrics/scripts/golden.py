"""Independent reference values for @probunet/metrics.

Written from the definitions in shared/PAPER.md ("Metrics") with per-pixel numpy arithmetic and
scipy's linear_sum_assignment, sharing no code with the TypeScript implementation.
Regenerate:  python3 packages/metrics/scripts/golden.py > packages/metrics/src/__fixtures__/golden.json
"""
import json
import numpy as np
from scipy.optimize import linear_sum_assignment


def distance(a, b, classes, empty_pair, ignore):
    valid = np.ones(a.shape, bool) if ignore is None else ~ignore
    per_class = []
    for c in classes:
        A = (a == c) & valid
        B = (b == c) & valid
        union = np.logical_or(A, B).sum()
        inter = np.logical_and(A, B).sum()
        if union == 0:
            if empty_pair == 'one':
                per_class.append(0.0)
            continue  # 'nan': left out
        per_class.append(1.0 - inter / union)
    return float(np.mean(per_class)) if per_class else float('nan')


def weighted_nanmean(M, wa, wb):
    W = np.outer(wa, wb)
    ok = ~np.isnan(M)
    return float((W[ok] * M[ok]).sum() / W[ok].sum()) if ok.any() else float('nan')


def weighted_mean(M, wa, wb):
    """A plain (weighted) mean: one NaN entry makes it NaN, as np.mean in the authors' code."""
    W = np.outer(wa, wb)
    return float((W * M).sum() / W.sum())


def ged(samples, truths, classes, empty_pair, ignore_index, weights, nan_pairs='skip'):
    """nan_pairs 'propagate' is the authors' Cityscapes code (eval_cityscapes.calc_energy_distances):
    d_YS and d_SS plain means, d_YY a NaN-skipping mean; 'skip' skips NaN pairs in every term."""
    ignore = None
    if ignore_index is not None:
        ignore = np.zeros(truths[0].shape, bool)
        for t in truths:
            ignore |= t == ignore_index
    n, m = len(samples), len(truths)
    w = np.full(m, 1 / m) if weights is None else np.array(weights)
    u = np.full(n, 1 / n)
    d = lambda X, Y: np.array([[distance(x, y, classes, empty_pair, ignore) for y in Y] for x in X])
    plain = weighted_mean if nan_pairs == 'propagate' else weighted_nanmean
    cross = plain(d(samples, truths), u, w)
    ss = plain(d(samples, samples), u, u)
    tt = weighted_nanmean(d(truths, truths), w, w)
    return {'ged': 2 * cross - ss - tt, 'crossDistance': cross, 'sampleDiversity': ss, 'truthDiversity': tt}


def hm_iou(samples, truths, classes, empty_pair):
    n, m = len(samples), len(truths)
    rep = [truths[j % m] for j in range(n)]
    D = np.array([[distance(s, t, classes, empty_pair, None) for t in rep] for s in samples])
    cost = np.where(np.isnan(D), 0.0, D)
    rows, cols = linear_sum_assignment(cost)
    matched = D[rows, cols]
    matched = matched[~np.isnan(matched)]
    return float(np.mean(1 - matched)) if matched.size else float('nan')


def blob(rng, h, w, p_empty):
    if rng.random() < p_empty:
        return np.zeros((h, w), int)
    cy, cx = rng.integers(2, h - 2), rng.integers(2, w - 2)
    r = rng.uniform(1.5, 4.5)
    yy, xx = np.mgrid[0:h, 0:w]
    return (((yy - cy) ** 2 + (xx - cx) ** 2) < r * r).astype(int)


def main():
    rng = np.random.default_rng(20261126)
    cases = []
    # LIDC-like binary masks, many empty, foreground IoU.
    for k in range(4):
        h, w = 12, 16
        samples = [blob(rng, h, w, 0.3) for _ in range(6)]
        truths = [blob(rng, h, w, 0.4) for _ in range(3)]
        for empty_pair, nan_pairs in (('one', None), ('nan', 'skip'), ('nan', 'propagate')):
            opts = {'classes': [1], 'emptyPair': empty_pair, **({'nanPairs': nan_pairs} if nan_pairs else {})}
            cases.append({'name': f'binary-{k}-{empty_pair}' + (f'-{nan_pairs}' if nan_pairs == 'propagate' else ''),
                          'samples': samples, 'truths': truths, 'options': opts,
                          'ged': ged(samples, truths, [1], empty_pair, None, None, nan_pairs or 'skip'),
                          'hungarianMatchedIoU': hm_iou(samples, truths, [1], empty_pair)})
    # Multi-class with an ignore label and weighted truths (Cityscapes-like).
    for k in range(3):
        h, w = 10, 14
        classes = [0, 2, 3, 5]
        samples = [rng.choice([0, 1, 2, 3, 5], size=(h, w), p=[0.3, 0.1, 0.3, 0.2, 0.1]) for _ in range(5)]
        truths = [rng.choice([0, 2, 3, 255], size=(h, w), p=[0.4, 0.3, 0.25, 0.05]) for _ in range(4)]
        weights = list(rng.dirichlet(np.ones(4)))
        for empty_pair, nan_pairs in (('one', None), ('nan', 'skip'), ('nan', 'propagate')):
            opts = {'classes': classes, 'emptyPair': empty_pair, 'ignoreLabel': 255, 'truthWeights': weights,
                    **({'nanPairs': nan_pairs} if nan_pairs else {})}
            cases.append({'name': f'multiclass-{k}-{empty_pair}' + (f'-{nan_pairs}' if nan_pairs == 'propagate' else ''),
                          'samples': samples, 'truths': truths, 'options': opts,
                          'ged': ged(samples, truths, classes, empty_pair, 255, weights, nan_pairs or 'skip')})
    out = {
        '_source': 'packages/metrics/scripts/golden.py: numpy per-pixel IoU and scipy.optimize.linear_sum_assignment, '
                   'independent of the TypeScript code. Regenerate: python3 packages/metrics/scripts/golden.py > '
                   'packages/metrics/src/__fixtures__/golden.json',
        'cases': [{**c, 'samples': [s.flatten().tolist() for s in c['samples']],
                   'truths': [t.flatten().tolist() for t in c['truths']],
                   'height': int(c['samples'][0].shape[0]), 'width': int(c['samples'][0].shape[1])} for c in cases],
    }
    # JSON has no NaN: an undefined value is written as null.
    nan_to_none = lambda v: {k: nan_to_none(x) for k, x in v.items()} if isinstance(v, dict) else (
        [nan_to_none(x) for x in v] if isinstance(v, list) else (None if isinstance(v, float) and v != v else v))
    print(json.dumps(nan_to_none(out), allow_nan=False))


main()
