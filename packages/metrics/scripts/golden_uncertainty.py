"""Independent reference values for @probunet/metrics' uncertainty measures: S_NCC, ECE,
uncertainty maps and optimal-transport matched IoU.

NCC follows PHiSeg's numpy code (utils.variance_ncc_dist: one-hot arrays, eps 1e-8 inside the
log, np.std), ECE and the maps are per-pixel numpy, the transport plan is a linear program solved
by scipy.optimize.linprog (HiGHS); nothing is shared with the TypeScript code.
Regenerate:
  python3 packages/metrics/scripts/golden_uncertainty.py > packages/metrics/src/__fixtures__/golden-uncertainty.json
"""
import json
import numpy as np
from scipy.optimize import linprog

rng = np.random.default_rng(20261130)


def one_hot(labels, c):
    return np.eye(c)[labels]


def pixel_wise_xent(m_samp, m_gt, eps=1e-8):
    return -1.0 * np.sum(m_gt * np.log(m_samp + eps), axis=-1)


def ncc(a, v):
    a = a.flatten()
    v = v.flatten()
    a = (a - np.mean(a)) / (np.std(a) * len(a))
    v = (v - np.mean(v)) / np.std(v)
    return float(np.correlate(a, v)[0])


def variance_ncc_dist(sample_arr, gt_arr):
    """PHiSeg: sample_arr N×X×Y×C (one-hot or probabilities), gt_arr M×X×Y×C one-hot."""
    mean_seg = np.mean(sample_arr, axis=0)
    E_ss = np.mean([pixel_wise_xent(s, mean_seg) for s in sample_arr], axis=0)
    E_sy = [np.mean([pixel_wise_xent(s, g) for s in sample_arr], axis=0) for g in gt_arr]
    return float(np.mean([ncc(E_ss, e) for e in E_sy]))


def ece(pred, target, bins):
    idx = np.minimum(np.floor(pred * bins), bins - 1).astype(int)
    total = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            total += sel.sum() / pred.size * abs(pred[sel].mean() - target[sel].mean())
    return float(total)


def blobs(h, w, k, c):
    """k label maps of h×w with up to c classes: random rectangles on background 0."""
    out = []
    for _ in range(k):
        m = np.zeros((h, w), int)
        for _ in range(3):
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0:y0 + rng.integers(1, h), x0:x0 + rng.integers(1, w)] = rng.integers(1, c)
        out.append(m)
    return np.array(out)


def iou_dist(a, b):
    A, B = a == 1, b == 1
    u = np.logical_or(A, B).sum()
    return 0.0 if u == 0 else 1.0 - np.logical_and(A, B).sum() / u


cases = {'ncc': [], 'ece': [], 'maps': [], 'transport': []}
for k, (h, w, n, m, c) in enumerate([(6, 7, 4, 3, 2), (9, 5, 8, 4, 3), (8, 8, 16, 4, 2)]):
    samples = blobs(h, w, n, c)
    truths = blobs(h, w, m, c)
    cases['ncc'].append({'name': f'labels-{k}', 'numClasses': c, 'samples': samples.tolist(), 'truths': truths.tolist(),
                         'value': variance_ncc_dist(one_hot(samples, c), one_hot(truths, c))})
    probs = rng.dirichlet(np.ones(c) * 0.7, size=(n, h, w))
    cases['ncc'].append({'name': f'probabilities-{k}', 'numClasses': c, 'probabilities': probs.reshape(n, -1).tolist(),
                         'height': h, 'width': w, 'truths': truths.tolist(),
                         'value': variance_ncc_dist(probs, one_hot(truths, c))})
    pred = (samples == 1).mean(axis=0)
    target = (truths == 1).mean(axis=0)
    for bins in (10, 4):
        cases['ece'].append({'name': f'labels-{k}-bins{bins}', 'bins': bins, 'samples': samples.tolist(), 'truths': truths.tolist(),
                             'value': ece(pred, target, bins)})
    cases['ece'].append({'name': f'probabilities-{k}', 'bins': 10, 'numClasses': c, 'probabilities': probs.reshape(n, -1).tolist(),
                         'height': h, 'width': w, 'truths': truths.tolist(), 'value': ece(probs[..., 1].mean(axis=0), target, 10)})
    mean_p = probs.mean(axis=0)
    xlogx = lambda x: np.where(x > 0, x * np.log(np.where(x > 0, x, 1)), 0.0)
    H = -xlogx(mean_p).sum(-1)
    E = (-xlogx(probs).sum(-1)).mean(0)
    freq = one_hot(samples, c).mean(0)
    cases['maps'].append({'name': f'maps-{k}', 'numClasses': c, 'height': h, 'width': w,
                          'samples': samples.tolist(), 'probabilities': probs.reshape(n, -1).tolist(),
                          'labelEntropy': (-xlogx(freq).sum(-1)).flatten().tolist(),
                          'entropy': H.flatten().tolist(), 'expectedEntropy': E.flatten().tolist(),
                          'mutualInformation': (H - E).flatten().tolist()})
    # Transport: binary maps against m truths with random weights.
    bs = (samples == 1).astype(int)
    bt = (truths == 1).astype(int)
    wts = rng.dirichlet(np.ones(m))
    D = np.array([[iou_dist(s, t) for t in bt] for s in bs])
    A_eq = []
    for i in range(n):
        row = np.zeros((n, m)); row[i, :] = 1; A_eq.append(row.flatten())
    for j in range(m):
        col = np.zeros((n, m)); col[:, j] = 1; A_eq.append(col.flatten())
    res = linprog(D.flatten(), A_eq=np.array(A_eq), b_eq=np.concatenate([np.full(n, 1 / n), wts]), bounds=(0, None), method='highs')
    cases['transport'].append({'name': f'transport-{k}', 'samples': bs.tolist(), 'truths': bt.tolist(), 'truthWeights': wts.tolist(),
                               'cost': float(res.fun), 'value': float(1 - res.fun)})

print(json.dumps({'_source': 'packages/metrics/scripts/golden_uncertainty.py: numpy (PHiSeg variance_ncc_dist, per-pixel ECE and entropies) and scipy.optimize.linprog (HiGHS) for the transport plan, independent of the TypeScript code. Regenerate: python3 packages/metrics/scripts/golden_uncertainty.py > packages/metrics/src/__fixtures__/golden-uncertainty.json', **cases}))
