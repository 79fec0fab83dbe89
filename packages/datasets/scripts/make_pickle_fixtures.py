"""Tiny pickles in the layout of the popular PyTorch port's LIDC file (a dict of
{filename: {'image': float32 HxW, 'masks': [4 binary HxW], 'series_uid': str}}), written by Python's
own pickle and numpy so the TypeScript reader is tested against the real serialiser.
32x32 instead of 128x128 to keep the repository small; the reader does not depend on the size.

One file per protocol the reader claims (2, 3, 4, 5), all holding the same data (lidc-tiny-expected.json):
  lidc-tiny-protocol2.pickle   bytes through _codecs.encode; masks as float32, as some exports do
  lidc-tiny-protocol3.pickle   the image Fortran-ordered (numpy's is_fortran flag)
  lidc-tiny-protocol4.pickle   plain
  lidc-tiny-protocol5.pickle   numpy's protocol-5 form (_frombuffer with an in-band buffer); image Fortran-ordered
  lidc-tiny-python2.pickle     what Python 2 wrote: protocol 2, every str and the arrays' raw data as
                               BINSTRING (Python 3 reads it with encoding='latin1'; checked below)
and files the reader must refuse with a clear error:
  lidc-tiny-protocol0.pickle   protocol 0 (text opcodes), older than the reader supports
  oob-buffer-protocol5.pickle  protocol 5 with an out-of-band buffer (buffer_callback), whose data is not in the file

Regenerate (numpy must be importable; the version goes into lidc-tiny-expected.json):
  python3 packages/datasets/scripts/make_pickle_fixtures.py packages/datasets/src/node/__fixtures__
"""
import json
import pickle
import struct
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


def dump(name, obj, protocol, **kw):
    with open(f'{out}/{name}', 'wb') as f:
        pickle.dump(obj, f, protocol=protocol, **kw)


dump('lidc-tiny-protocol4.pickle', data, 4)
# Protocol 2 stores bytes through _codecs.encode; masks as float32 here, as some exports do.
data2 = {k: {**v, 'masks': [m.astype(np.float32) for m in v['masks']]} for k, v in data.items()}
dump('lidc-tiny-protocol2.pickle', data2, 2)
fortran = {k: {**v, 'image': np.asfortranarray(v['image'])} for k, v in data.items()}
assert all(not v['image'].flags.c_contiguous for v in fortran.values())
dump('lidc-tiny-protocol3.pickle', fortran, 3)
dump('lidc-tiny-protocol5.pickle', fortran, 5)
dump('lidc-tiny-protocol0.pickle', {k: data[k] for k in list(data)[:1]}, 0)
buffers = []
with open(f'{out}/oob-buffer-protocol5.pickle', 'wb') as f:
    f.write(pickle.dumps({'image': np.zeros((4, 4), np.float32)}, protocol=5, buffer_callback=buffers.append))
assert len(buffers) == 1


class Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 did (BINSTRING): its str was a byte string."""

    def save_str(self, obj):
        self.save_bytes(obj.encode('latin1'))

    def save_bytes(self, obj):
        n = len(obj)
        self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj if n < 256 else pickle.BINSTRING + struct.pack('<I', n) + obj)
        self.memoize(obj)

    dispatch = {**pickle._Pickler.dispatch, str: save_str, bytes: save_bytes}


with open(f'{out}/lidc-tiny-python2.pickle', 'wb') as f:
    Python2Pickler(f, protocol=2).dump(data)
with open(f'{out}/lidc-tiny-python2.pickle', 'rb') as f:
    back = pickle.load(f, encoding='latin1')  # how Python 3 reads Python 2 pickles of numpy arrays
for k, v in data.items():
    assert np.array_equal(back[k]['image'], v['image']) and all(np.array_equal(a, b) for a, b in zip(back[k]['masks'], v['masks']))

with open(f'{out}/lidc-tiny-expected.json', 'w') as f:
    json.dump({'_source': 'packages/datasets/scripts/make_pickle_fixtures.py (numpy ' + np.__version__ + ')', 'entries': expected}, f, indent=1)
