"""Independent reference values for @probunet/metrics' flip calibration (calibration.ts):
per-image flip records, the mean per-image total-variation distance to the exact conditional
distribution over flip combinations and its perfect-sampler floor, per-class flip fractions
conditioned on presence, and the 2^F-mode table (mean sampled frequency vs true probability) with
its Pearson r, over the images that contain every flippable class.

numpy arrays and itertools.product for the combinations, np.corrcoef for r, scipy.stats.binom for
the floor; nothing is shared with the TypeScript code.
Regenerate:
  python3 packages/metrics/scripts/golden_calibration.py > packages/metrics/src/__fixtures__/golden-calibration.json
"""
import itertools
import json
import numpy as np
from scipy.stats import binom

rng = np.random.default_rng(20261205)
IGNORE = 255


def flipped_state(sample, truth, flips, threshold=0.5):
    """Per flip: None (class absent), else whether more than `threshold` of its pixels are `to`."""
    out = []
    for f in flips:
        mask = truth == f["from"]
        if mask.sum() == 0:
            out.append(None)
        else:
            out.append(bool((sample[mask] == f["to"]).mean() > threshold))
    return out


def key_of(state):
    return "".join("-" if s is None else ("1" if s else "0") for s in state)


def conditional_distribution(present, flips):
    """Every combination of the present flips with its exact probability."""
    slots = [[None] if not pr else [False, True] for pr in present]
    dist = {}
    for combo in itertools.product(*slots):
        p = 1.0
        for c, f in zip(combo, flips):
            if c is True:
                p *= f["probability"]
            elif c is False:
                p *= 1 - f["probability"]
        dist[key_of(combo)] = p
    return dist


def floor(n, probs):
    x = np.arange(n + 1)
    return 0.5 * sum(float(np.sum(binom.pmf(x, n, p) * np.abs(x / n - p))) for p in probs)


def make_case(name, flips, images, height, width, samples_per_image, presence_rate):
    others = [2, 3, 4]
    truths, sample_sets = [], []
    for i in range(images):
        present = rng.random(len(flips)) < presence_rate
        if i == 0:
            present[:] = True
        if i == 1:
            present[:] = False  # no flippable class at all
        labels = [f["from"] for f, pr in zip(flips, present) if pr] + others
        truth = rng.choice(labels, size=height * width)
        # each present class at least once
        pos = rng.permutation(height * width)
        for j, f in enumerate([f for f, pr in zip(flips, present) if pr]):
            truth[pos[j]] = f["from"]
        if i % 3 == 2:
            truth[pos[-1]] = IGNORE
        truths.append(truth)
        n = samples_per_image[i % len(samples_per_image)]
        ss = []
        for _ in range(n):
            s = truth.copy()
            for f in flips:
                mask = truth == f["from"]
                # flip all, none, or a random share (so the 0.5 threshold decides)
                u = rng.random()
                share = 1.0 if u < f["probability"] * 0.8 else 0.0 if u < 0.85 else rng.random()
                s[mask & (rng.random(height * width) < share)] = f["to"]
            # noise elsewhere: an unrelated label on some pixels
            s[rng.random(height * width) < 0.1] = 3
            ss.append(s)
        sample_sets.append(ss)
    # reference computation
    records, tvs, floors = [], [], []
    full_keys = [key_of(c) for c in itertools.product([False, True], repeat=len(flips))]
    full_sum = np.zeros(len(full_keys))
    full_images, full_samples = 0, 0
    truth_pixels = np.zeros(len(flips))
    flipped_pixels = np.zeros(len(flips))
    class_images = np.zeros(len(flips), dtype=int)
    for truth, ss in zip(truths, sample_sets):
        valid = truth != IGNORE
        class_px = [int(((truth == f["from"]) & valid).sum()) for f in flips]
        flipped_px = [int(sum(((truth == f["from"]) & valid & (s == f["to"])).sum() for s in ss)) for f in flips]
        keys = [key_of(flipped_state(s, truth, flips)) for s in ss]
        uniq, counts = np.unique(keys, return_counts=True)
        modes = [{"key": str(k), "count": int(c)} for k, c in zip(uniq, counts)]
        records.append({"classPixels": class_px, "flippedPixels": flipped_px, "modes": modes})
        present = [c > 0 for c in class_px]
        for j in range(len(flips)):
            if present[j]:
                class_images[j] += 1
                truth_pixels[j] += class_px[j] * len(ss)
                flipped_pixels[j] += flipped_px[j]
        if not any(present):
            continue
        dist = conditional_distribution(present, flips)
        emp = {k: c / len(ss) for k, c in zip(uniq, counts)}
        tvs.append(0.5 * sum(abs(emp.get(k, 0.0) - p) for k, p in dist.items()))
        floors.append(floor(len(ss), list(dist.values())))
        if all(present):
            full_images += 1
            full_samples += len(ss)
            full_sum += np.array([emp.get(k, 0.0) for k in full_keys])
    full_truth = np.array([conditional_distribution([True] * len(flips), flips)[k] for k in full_keys])
    freq = full_sum / full_images
    order = sorted(range(len(full_keys)), key=lambda j: (-full_truth[j], full_keys[j]))
    return {
        "name": name,
        "flips": flips,
        "height": height,
        "width": width,
        "ignoreLabel": IGNORE,
        "truths": [t.tolist() for t in truths],
        "samples": [[s.tolist() for s in ss] for ss in sample_sets],
        "records": records,
        "expected": {
            "fractions": [float(flipped_pixels[j] / truth_pixels[j]) if class_images[j] else None for j in range(len(flips))],
            "classImages": class_images.tolist(),
            "meanTotalVariation": float(np.mean(tvs)),
            "tvImages": len(tvs),
            "tvFloor": float(np.mean(floors)),
            "fullImages": full_images,
            "fullModes": [{"key": full_keys[j], "sampledFrequency": float(freq[j]), "trueProbability": float(full_truth[j])} for j in order],
            "pearsonR": float(np.corrcoef(freq, full_truth)[0, 1]),
            "tableTotalVariation": float(0.5 * np.abs(freq - full_truth).sum()),
            "tableFloor": floor(full_samples, full_truth.tolist()),
        },
    }


CITYSCAPES = [
    {"name": "sidewalk", "from": 1, "to": 19, "probability": 8 / 17},
    {"name": "person", "from": 11, "to": 20, "probability": 7 / 17},
    {"name": "car", "from": 13, "to": 21, "probability": 6 / 17},
    {"name": "vegetation", "from": 8, "to": 22, "probability": 5 / 17},
    {"name": "road", "from": 0, "to": 23, "probability": 4 / 17},
]
THREE = [
    {"from": 5, "to": 15, "probability": 0.6},
    {"from": 6, "to": 16, "probability": 0.25},
    {"from": 7, "to": 17, "probability": 0.1},
]

print(json.dumps({
    "_source": "packages/metrics/scripts/golden_calibration.py: numpy, itertools.product, np.corrcoef and scipy.stats.binom, independent of the TypeScript code. Regenerate: python3 packages/metrics/scripts/golden_calibration.py > packages/metrics/src/__fixtures__/golden-calibration.json",
    "cases": [
        make_case("three flips, mixed presence, 5-8 samples", THREE, 9, 3, 4, [6, 5, 8], 0.7),
        make_case("cityscapes flips, 16 samples", CITYSCAPES, 8, 2, 6, [16], 0.85),
    ],
}))
