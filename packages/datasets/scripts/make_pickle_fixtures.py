"""Tiny pickles in the layout of the popular PyTorch port's LIDC file (a dict of
{filename: {'image': float32 HxW, 'masks': [4 binary HxW], 'series_uid': str}}), written by Python's
own pickle and numpy so the TypeScript reader is tested against the real serialiser.
32x32 instead of 128x128 to keep the repository small; the reader does not depend on the size.
Regenerate:  python3 packages/datasets/scripts/make_pickle_fixtures.py packages/datasets/src/node/__fixtures__
"""
import json
import pickle
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
data = {}
expected = {}
for i, uid in enumerate(['1.3.6.1.4.1.14519.5.2.1.6279.6001.100', '1.3.6.1.4.1.14519.5.2.1.6279.6001.100', '1.3.6.1.4.1.14519.5.2.1.6279.6001.200']):
    image = rng.random((32, 32), dtype=np.float32)
    masks = [(rng.random((32, 32)) > 0.7 + 0.05 * k).astype(np.uint8) for k in range(4)]
    masks[3][:] = 0  # an empty grader mask, as in LIDC
    key = f'LIDC-IDRI-{i:04d}_slice_{10 + i}.png'
    data[key] = {'image': image, 'masks': masks, 'series_uid': uid}
    expected[key] = {'imageSum': float(image.astype(np.float64).sum()), 'image00': float(image[0, 0]), 'image01': float(image[0, 1]),
                     'maskSums': [int(m.sum()) for m in masks], 'series_uid': uid}
with open(f'{out}/lidc-tiny-protocol4.pickle', 'wb') as f:
    pickle.dump(data, f, protocol=4)
# Protocol 2 stores bytes through _codecs.encode; masks as float32 here, as some exports do.
data2 = {k: {**v, 'masks': [m.astype(np.float32) for m in v['masks']]} for k, v in data.items()}
with open(f'{out}/lidc-tiny-protocol2.pickle', 'wb') as f:
    pickle.dump(data2, f, protocol=2)
with open(f'{out}/lidc-tiny-expected.json', 'w') as f:
    json.dump({'_source': 'packages/datasets/scripts/make_pickle_fixtures.py (numpy ' + np.__version__ + ')', 'entries': expected}, f, indent=1)
