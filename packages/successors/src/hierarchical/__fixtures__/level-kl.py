"""Golden values for levelKl (hierarchical-prob-unet.ts): KL(q || p) of one per-pixel latent level,
summed over the level's pixels and channels, per image, for diagonal Gaussians, in float64 numpy.

Regenerate: python3 packages/successors/src/hierarchical/__fixtures__/level-kl.py
(writes level-kl.json beside this script; numpy's default_rng(31), so the values are reproducible).
"""
import json
import os

import numpy as np

rng = np.random.default_rng(31)
shape = (2, 2, 3, 2)  # [B, h, w, d]
# Rounded to 7 decimals first, so the JSON's inputs are exactly what the KL was computed from.
q_mean = np.round(rng.normal(0, 1, shape), 7)
q_log_sigma = np.round(rng.uniform(-2, 1, shape), 7)
p_mean = np.round(rng.normal(0, 1, shape), 7)
p_log_sigma = np.round(rng.uniform(-2, 1, shape), 7)
# KL(N(mq, sq^2) || N(mp, sp^2)) = log(sp/sq) + (sq^2 + (mq - mp)^2) / (2 sp^2) - 1/2, per dimension.
sq2, sp2 = np.exp(2 * q_log_sigma), np.exp(2 * p_log_sigma)
per_dim = p_log_sigma - q_log_sigma + (sq2 + (q_mean - p_mean) ** 2) / (2 * sp2) - 0.5
kl = per_dim.sum(axis=(1, 2, 3))

rounded = lambda a: a.tolist()
out = {
    "_source": "numpy " + np.__version__ + ", float64; regenerate with: python3 packages/successors/src/hierarchical/__fixtures__/level-kl.py",
    "shape": list(shape),
    "posterior": {"mean": rounded(q_mean.ravel()), "logSigma": rounded(q_log_sigma.ravel())},
    "prior": {"mean": rounded(p_mean.ravel()), "logSigma": rounded(p_log_sigma.ravel())},
    "kl": kl.tolist(),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "level-kl.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
