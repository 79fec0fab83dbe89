"""numpy reference for the metrics bench: GED with all pairwise intersections as one matrix product.

Reads label maps that bench/metrics-bench.ts wrote (uint8, images × (samples + truths) × pixels,
samples first), and per image: one float32 mask per class, intersections of all pairs of maps as
`M @ M.T` (BLAS), union = |A| + |B| − |A ∩ B|, d = mean over classes of 1 − IoU (emptyPair 'one'
or 'nan'), and the V-statistic with the diagonal and optional truth weights, as
@probunet/metrics' generalizedEnergyDistance. Only the metric is timed, not the file reading.
Writes each image's GED (float64) to --out and prints one JSON line.

  python3 ged_numpy.py --data FILE --images N --samples 16 --truths 4 --pixels 16384 \
      --classes 1 --empty-pair one --out FILE [--ignore 255] [--weights FILE] [--binary]
"""
import argparse
import json
import os
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument('--data', required=True)
p.add_argument('--images', type=int, required=True)
p.add_argument('--samples', type=int, required=True)
p.add_argument('--truths', type=int, required=True)
p.add_argument('--pixels', type=int, required=True)
p.add_argument('--classes', required=True, help='comma-separated class indices')
p.add_argument('--empty-pair', choices=['one', 'nan'], default='one')
p.add_argument('--ignore', type=int)
p.add_argument('--weights', help='float64 file: images × truths truth weights')
p.add_argument('--binary', action='store_true', help='maps are 0/1 and classes is [1]: cast the maps directly')
p.add_argument('--out', required=True)
a = p.parse_args()

classes = [int(c) for c in a.classes.split(',')]
n, m = a.samples, a.truths
maps = np.fromfile(a.data, dtype=np.uint8).reshape(a.images, n + m, a.pixels)
weights = np.fromfile(a.weights, dtype=np.float64).reshape(a.images, m) if a.weights else None


def v_statistic(D, wa, wb):
    W = np.outer(wa, wb)
    ok = ~np.isnan(D)
    return (W[ok] * D[ok]).sum() / W[ok].sum() if ok.any() else np.nan


def ged(x, w):
    # x: (n + m) × pixels uint8. Distances of all pairs of maps, then the three V-statistic terms.
    if a.binary:
        masks = [x.astype(np.float32)]
    else:
        valid = None if a.ignore is None else ~(x[n:] == a.ignore).any(axis=0)
        masks = [((x == c) & valid if valid is not None else x == c).astype(np.float32) for c in classes]
    dsum = np.zeros((n + m, n + m))
    dcount = np.zeros((n + m, n + m))
    for f in masks:
        inter = f @ f.T
        count = np.diag(inter)
        union = count[:, None] + count[None, :] - inter
        with np.errstate(invalid='ignore', divide='ignore'):
            d = 1.0 - inter.astype(np.float64) / union
        if a.empty_pair == 'one':
            d[union == 0] = 0.0
        else:
            d[union == 0] = np.nan
        ok = ~np.isnan(d)
        dsum += np.where(ok, d, 0.0)
        dcount += ok
    with np.errstate(invalid='ignore', divide='ignore'):
        D = dsum / dcount
    un = np.full(n, 1.0 / n)
    wt = np.full(m, 1.0 / m) if w is None else w
    return 2 * v_statistic(D[:n, n:], un, wt) - v_statistic(D[:n, :n], un, un) - v_statistic(D[n:, n:], wt, wt)


out = np.empty(a.images)
seconds = 0.0
for i in range(a.images):
    x = np.ascontiguousarray(maps[i])
    w = None if weights is None else weights[i]
    t0 = time.perf_counter()
    out[i] = ged(x, w)
    seconds += time.perf_counter() - t0
out.tofile(a.out)
blas = os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3')
print(json.dumps({'numpy': np.__version__, 'blas': blas, 'images': a.images, 'seconds': seconds}))
