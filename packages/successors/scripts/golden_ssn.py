"""Independent reference values for @probunet/successors' SSN loss (src/ssn/low-rank-logits.ts):
the Monte-Carlo log-likelihood log (1/M) sum_m p(y | eta_m) of Monteiro et al. (NeurIPS 2020) and
the gradient of the loss -mean_b(LL_b) with respect to the mean mu, the diagonal D and the factor P.

eta = mu + s * (P eps_r + sqrt(D) eps_d), s = +1 (and -1 too when antithetic, the authors'
fixed_re_parametrization_trick in ssn/trainer/losses.py); log p(y | eta) sums log softmax over the
pixels whose label is not the ignore label. numpy float64, the gradients written out by hand
(chain rule through the log-sum-exp and the softmax) and checked here against central finite
differences; nothing is shared with the TypeScript code.
Regenerate:
  python3 packages/successors/scripts/golden_ssn.py > packages/successors/src/ssn/__fixtures__/golden-ssn-loss.json
"""
import json
import numpy as np

rng = np.random.default_rng(20261205)
IGNORE = 255


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def one_hot(labels, k):
    valid = labels != IGNORE
    out = np.zeros(labels.shape + (k,))
    for idx in np.ndindex(labels.shape):
        if valid[idx]:
            out[idx + (labels[idx],)] = 1.0
    return out


def draws(mu, diag, factor, eps_r, eps_d, antithetic):
    """logits [B,M,H,W,K], the sign of each draw [M], the deviation of each draw's base [B,M,...]."""
    dev = np.einsum('bhwkr,bsr->bshwk', factor, eps_r) + np.sqrt(diag)[:, None] * eps_d
    signs = np.array([1.0] * dev.shape[1] + ([-1.0] * dev.shape[1] if antithetic else []))
    base = np.concatenate([dev, dev], axis=1) if antithetic else dev
    return mu[:, None] + signs[None, :, None, None, None] * base, signs


def log_likelihood(mu, diag, factor, eps_r, eps_d, labels, antithetic):
    logits, _ = draws(mu, diag, factor, eps_r, eps_d, antithetic)
    oh = one_hot(labels, mu.shape[-1])
    per_sample = (log_softmax(logits) * oh[:, None]).sum(axis=(2, 3, 4))  # [B,M]
    top = per_sample.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(per_sample - top).sum(axis=1))
    return lse - np.log(per_sample.shape[1])


def loss_gradients(mu, diag, factor, eps_r, eps_d, labels, antithetic):
    """d(-mean_b LL_b) / d(mu, D, P), by hand."""
    b, s = eps_r.shape[:2]
    logits, signs = draws(mu, diag, factor, eps_r, eps_d, antithetic)
    oh = one_hot(labels, mu.shape[-1])
    valid = (labels != IGNORE).astype(float)[:, None, :, :, None]
    soft = np.exp(log_softmax(logits))
    per_sample = (log_softmax(logits) * oh[:, None]).sum(axis=(2, 3, 4))
    w = np.exp(per_sample - per_sample.max(axis=1, keepdims=True))
    w = w / w.sum(axis=1, keepdims=True)  # [B,M]: d LL_b / d logp_bm
    g = w[:, :, None, None, None] * (oh[:, None] - soft * valid)  # d LL_b / d eta_bm
    m = logits.shape[1]
    # eta_bm = mu + sign_m * base_bm, base from draw m mod s
    g_signed = g * signs[None, :, None, None, None]
    per_draw = sum(g_signed[:, i * s:(i + 1) * s] for i in range(m // s))  # [B,S,H,W,K]
    d_mu = g.sum(axis=1)
    d_factor = np.einsum('bshwk,bsr->bhwkr', per_draw, eps_r)
    d_diag = (per_draw * eps_d).sum(axis=1) / (2 * np.sqrt(diag))
    return [-x / b for x in (d_mu, d_diag, d_factor)]


def finite_difference_check(args, antithetic, grads):
    h = 1e-6
    for which in range(3):
        x = args[which]
        for idx in list(np.ndindex(x.shape))[:: max(1, x.size // 12)]:
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[which][idx] += h
            minus[which][idx] -= h
            f = lambda a: -log_likelihood(*a, antithetic).mean()
            numeric = (f(plus) - f(minus)) / (2 * h)
            assert abs(numeric - grads[which][idx]) < 1e-5 * max(1.0, abs(numeric)), (which, idx, numeric, grads[which][idx])


def case(name, b, h, w, k, r, s, antithetic, scale=1.0, ignore_fraction=0.2):
    mu = rng.normal(size=(b, h, w, k)) * scale
    diag = np.exp(rng.normal(size=(b, h, w, k)) * 0.5) * scale ** 2
    factor = rng.normal(size=(b, h, w, k, r)) * 0.7 * scale
    eps_r = rng.normal(size=(b, s, r))
    eps_d = rng.normal(size=(b, s, h, w, k))
    labels = rng.integers(0, k, size=(b, h, w))
    labels[rng.random(size=labels.shape) < ignore_fraction] = IGNORE
    args = [mu, diag, factor, eps_r, eps_d, labels]
    ll = log_likelihood(*args, antithetic)
    grads = loss_gradients(*args, antithetic)
    if scale == 1.0:
        finite_difference_check(args, antithetic, grads)
    lst = lambda a: np.asarray(a).tolist()
    return {
        'name': name, 'antithetic': antithetic,
        'mean': lst(mu), 'diagonal': lst(diag), 'factor': lst(factor),
        'factorNoise': lst(eps_r), 'diagonalNoise': lst(eps_d), 'labels': lst(labels),
        'logLikelihood': lst(ll),
        'gradMean': lst(grads[0]), 'gradDiagonal': lst(grads[1]), 'gradFactor': lst(grads[2]),
    }


cases = [
    case('antithetic, 3 classes, rank 2, M = 4, ignore pixels', b=2, h=2, w=3, k=3, r=2, s=2, antithetic=True),
    case('plain Monte Carlo, 2 classes, rank 3, M = 3', b=2, h=3, w=2, k=2, r=3, s=3, antithetic=False),
    case('large logits (x 1000): per-image log-likelihoods of about -1e4', b=2, h=4, w=4, k=2, r=2, s=3, antithetic=True, scale=1000.0, ignore_fraction=0.0),
]
print(json.dumps({
    '_source': 'packages/successors/scripts/golden_ssn.py: numpy float64, gradients by hand, checked against '
               'finite differences; independent of the TypeScript code. Regenerate: python3 '
               'packages/successors/scripts/golden_ssn.py > packages/successors/src/ssn/__fixtures__/golden-ssn-loss.json',
    'ignoreLabel': IGNORE,
    'cases': cases,
}))
