"""PyTorch's 3×3 convolutions of one LIDC train step, layer by layer, on the GPU (the GPU check).

    python3 torch_layers.py --batch 32 [--size 128] [--reps 5] [--tf32 off]

The same shapes as bench/webgpu-layer-times.ts (U-Net down and up paths, prior and posterior nets;
identical shapes timed once and counted), each as forward (conv + bias + relu), input gradient
(torch.nn.grad.conv2d_input) and filter gradient (torch.nn.grad.conv2d_weight), fp32 with TF32 off
by default (what WebGPU computes), cudnn.benchmark on, channels_last, CUDA events, median of
`--reps` after two warm-ups. Prints one JSON object: rows {layer, shape, count, pass, ms}, totals.
"""
import argparse
import json

import torch
import torch.nn.functional as F

CHANNELS, CONVS, INPUT, CLASSES = [32, 64, 128, 192], 3, 1, 2


def layers(size):
    out = {}

    def add(name, hw, cin, cout, first=False):
        key = (hw, cin, cout, first)
        if key in out:
            out[key]['count'] += 1
        else:
            out[key] = {'name': name, 'hw': hw, 'cin': cin, 'cout': cout, 'count': 1, 'first': first}

    for cin0 in (INPUT, INPUT, INPUT + CLASSES):
        c = cin0
        for i, cout in enumerate(CHANNELS):
            for j in range(CONVS):
                add(f'encoders down {i}.{j}', -(-size // 2 ** i), c, cout, i == 0 and j == 0)
                c = cout
    for i in range(len(CHANNELS) - 2, -1, -1):
        c = CHANNELS[i + 1] + CHANNELS[i]
        for j in range(CONVS):
            add(f'U-Net up {i}.{j}', -(-size // 2 ** i), c, CHANNELS[i])
            c = CHANNELS[i]
    return list(out.values())


def time_ms(fn, reps):
    for _ in range(2):
        fn()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--tf32', choices=['on', 'off'], default='off')
    a = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = a.tf32 == 'on'
    dev = torch.device('cuda')
    rows, totals = [], {}
    for l in layers(a.size):
        shape = (a.batch, l['cin'], l['hw'], l['hw'])
        x = torch.randn(shape, device=dev).contiguous(memory_format=torch.channels_last)
        w = (0.1 * torch.randn(l['cout'], l['cin'], 3, 3, device=dev)).contiguous(memory_format=torch.channels_last)
        b = 0.1 * torch.randn(l['cout'], device=dev)
        dy = torch.randn(a.batch, l['cout'], l['hw'], l['hw'], device=dev).contiguous(memory_format=torch.channels_last)
        passes = [('forward', lambda: F.relu(F.conv2d(x, w, b, padding=1)))]
        if not l['first']:
            passes.append(('inputGradient', lambda: torch.nn.grad.conv2d_input(shape, w, dy, padding=1)))
        passes.append(('filterGradient', lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=1)))
        with torch.no_grad():
            for name, fn in passes:
                ms = time_ms(fn, a.reps)
                rows.append({'layer': l['name'], 'shape': f"{a.batch}×{l['hw']}²×{l['cin']}→{l['cout']}", 'count': l['count'], 'pass': name, 'ms': ms})
                totals[name] = totals.get(name, 0) + ms * l['count']
    print(json.dumps({'batch': a.batch, 'size': a.size, 'reps': a.reps, 'tf32': a.tf32, 'device': torch.cuda.get_device_name(0),
                      'torch': torch.__version__, 'rows': rows, 'totals': dict(totals, ms=sum(totals.values()))}))


if __name__ == '__main__':
    main()
