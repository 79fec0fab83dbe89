"""PyTorch reference for `npm run bench` and the GPU check (scripts/gpu-check): the same
Probabilistic U-Net as @probunet/core (the authors' architecture, see shared/PAPER.md), timed on the
same cores or the same GPU. Our own code, written for this comparison; NCHW, PyTorch's native layout.
Prints one JSON object.

    /usr/bin/python3 bench/pytorch/prob_unet_bench.py --threads 2 --batch 8 --steps 5
    python3 bench/pytorch/prob_unet_bench.py --device cuda --batch 8 32 64 --steps 20 --tf32 off

On CUDA: fp32 (``--tf32 off`` keeps cuDNN and cuBLAS in true fp32, as WebGPU computes; ``on`` is
PyTorch's default for convolutions), ``cudnn.benchmark`` on, CUDA events around each timed step,
peak memory from ``torch.cuda.max_memory_allocated``, and ``--profile`` lists the CUDA kernels of
one train step.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def down_path(cin, channels, convs):
    levels = nn.ModuleList()
    for i, c in enumerate(channels):
        layers = []
        for _ in range(convs):
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=True)]
            cin = c
        levels.append(nn.Sequential(*layers))
    return levels


def run_down(levels, x):
    outs = []
    for i, block in enumerate(levels):
        if i > 0:
            x = F.avg_pool2d(x, 2, 2, ceil_mode=True)
        x = block(x)
        outs.append(x)
    return outs


class UNet(nn.Module):
    def __init__(self, cin, channels, convs):
        super().__init__()
        self.down = down_path(cin, channels, convs)
        self.up = nn.ModuleList()
        for i in range(len(channels) - 2, -1, -1):
            layers, c_in = [], channels[i + 1] + channels[i]
            for _ in range(convs):
                layers += [nn.Conv2d(c_in, channels[i], 3, padding=1), nn.ReLU(inplace=True)]
                c_in = channels[i]
            self.up.append(nn.Sequential(*layers))

    def forward(self, x):
        skips = run_down(self.down, x)
        h = skips[-1]
        for block, skip in zip(self.up, reversed(skips[:-1])):
            h = F.interpolate(h, size=skip.shape[2:], mode='bilinear', align_corners=True)
            h = block(torch.cat([h, skip], 1))
        return h


class ConvGaussian(nn.Module):
    def __init__(self, cin, channels, convs, latent, bound=5.0):
        super().__init__()
        self.down = down_path(cin, channels, convs)
        self.head = nn.Conv2d(channels[-1], 2 * latent, 1)
        self.latent, self.bound = latent, bound

    def forward(self, x):
        h = run_down(self.down, x)[-1].mean(dim=(2, 3), keepdim=True)
        out = self.head(h).flatten(1)
        mu, raw = out[:, :self.latent], out[:, self.latent:]
        return mu, self.bound * torch.tanh(raw / self.bound)


class Fusion(nn.Module):
    def __init__(self, cf, latent, classes, n1x1):
        super().__init__()
        layers, c = [], cf + latent
        for _ in range(n1x1):
            layers += [nn.Conv2d(c, cf, 1), nn.ReLU(inplace=True)]
            c = cf
        layers.append(nn.Conv2d(c, classes, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, feats, z):
        tiled = z[:, :, None, None].expand(-1, -1, feats.shape[2], feats.shape[3])
        return self.net(torch.cat([feats, tiled], 1))


class ProbUNet(nn.Module):
    def __init__(self, cin, classes, channels, convs, latent, n1x1):
        super().__init__()
        self.classes = classes
        self.unet = UNet(cin, channels, convs)
        self.prior = ConvGaussian(cin, channels, convs, latent)
        self.posterior = ConvGaussian(cin + classes, channels, convs, latent)
        self.fusion = Fusion(channels[0], latent, classes, n1x1)

    def loss(self, x, y):
        onehot = F.one_hot(y, self.classes).permute(0, 3, 1, 2).float()
        feats = self.unet(x)
        mu_p, ls_p = self.prior(x)
        mu_q, ls_q = self.posterior(torch.cat([x, onehot - 0.5], 1))
        z = mu_q + torch.exp(ls_q) * torch.randn_like(mu_q)
        logits = self.fusion(feats, z)
        rec = F.cross_entropy(logits, y, reduction='none').sum(dim=(1, 2)).mean()
        kl = (ls_p - ls_q + (torch.exp(2 * ls_q) + (mu_q - mu_p) ** 2) / (2 * torch.exp(2 * ls_p)) - 0.5).sum(1).mean()
        l2 = sum((m.weight ** 2).sum() for m in self.modules() if isinstance(m, nn.Conv2d)) / 2
        return rec + kl + 1e-5 * l2

    @torch.no_grad()
    def sample(self, x, n, naive=False):
        out = []
        if naive:
            for _ in range(n):
                mu, ls = self.prior(x)
                out.append(self.fusion(self.unet(x), mu + torch.exp(ls) * torch.randn_like(mu)).argmax(1))
            return torch.stack(out, 1)
        feats = self.unet(x)
        mu, ls = self.prior(x)
        for _ in range(n):
            out.append(self.fusion(feats, mu + torch.exp(ls) * torch.randn_like(mu)).argmax(1))
        return torch.stack(out, 1)


def timed(fn, warmup, reps, device='cpu'):
    """Median seconds of fn; on CUDA timed with events (the work is asynchronous)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if device == 'cuda':
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def kernel_profile(step, top=15):
    """The CUDA kernels of one train step, by total device time."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    rows = []
    for e in prof.key_averages():
        t = getattr(e, 'device_time_total', None)
        if t is None:
            t = getattr(e, 'cuda_time_total', 0)
        if t and e.device_type == torch.autograd.DeviceType.CUDA:
            rows.append({'kernel': e.key[:120], 'ms': t / 1000, 'calls': e.count})
    rows.sort(key=lambda r: -r['ms'])
    total = sum(r['ms'] for r in rows)
    return {'kernelMsTotal': total, 'kernels': [dict(r, share=r['ms'] / total if total else None) for r in rows[:top]]}


def counted_flops(step, batch):
    """FLOPs of one train step as PyTorch's profiler counts them (``with_flops=True``), per image.
    PyTorch 1.13 counts forward convolutions and matrix products (and element-wise mul/add); it does
    not count the backward kernels, so ``forwardConvGflopPerImage`` is the figure to compare with
    the forward pass of bench/flops.ts."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        step()
    by_op = {}
    for e in prof.key_averages():
        if e.flops:
            by_op[e.key] = by_op.get(e.key, 0) + e.flops
    conv = sum(v for k, v in by_op.items() if 'conv' in k)
    return {'batch': batch, 'forwardConvGflopPerImage': conv / batch / 1e9,
            'byOpGflopPerImage': {k: v / batch / 1e9 for k, v in sorted(by_op.items(), key=lambda kv: -kv[1])},
            'note': 'torch.profiler with_flops=True; backward kernels are not counted by PyTorch 1.13'}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, nargs='+', default=[8])
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    ap.add_argument('--tf32', choices=['off', 'on'], default='off', help='CUDA only: allow TF32 in cuDNN and cuBLAS')
    ap.add_argument('--profile', action='store_true', help='CUDA only: list the kernels of one train step')
    ap.add_argument('--flops', action='store_true', help="count one train step's FLOPs with PyTorch's profiler")
    args = ap.parse_args()
    dev = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    result = {'framework': 'pytorch', 'version': torch.__version__, 'device': args.device, 'threads': torch.get_num_threads(),
              'blas': torch.__config__.show().split('BLAS_INFO=')[-1].split(',')[0] if 'BLAS_INFO=' in torch.__config__.show() else 'unknown',
              'train': [], 'sampling': {}}
    warmup = 1
    if args.device == 'cuda':
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = args.tf32 == 'on'
        torch.backends.cuda.matmul.allow_tf32 = args.tf32 == 'on'
        warmup = 3  # cudnn.benchmark tries algorithms on the first steps of each shape
        result.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                      tf32=args.tf32 == 'on', cudnnBenchmark=True, timing='CUDA events, median')
    model = ProbUNet(1, 2, [32, 64, 128, 192], 3, 6, 3).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    n = 8192 if args.device == 'cuda' else 2048
    a = torch.randn(n, n, device=dev)
    result['matmulGflops'] = 2 * n ** 3 / timed(lambda: a @ a, 1, 5, args.device) / 1e9
    for b in args.batch:
        x = torch.randn(b, 1, args.size, args.size, device=dev)
        y = (torch.rand(b, args.size, args.size, device=dev) > 0.5).long()

        def step():
            opt.zero_grad()
            model.loss(x, y).backward()
            opt.step()
        if args.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
        s = timed(step, warmup, args.steps, args.device)
        row = {'batch': b, 'secondsPerStep': s, 'msPerImage': 1000 * s / b}
        if args.device == 'cuda':
            row['peakMemoryBytes'] = torch.cuda.max_memory_allocated()
            if args.profile and b == (32 if 32 in args.batch else args.batch[0]):
                result['profile'] = dict(batch=b, **kernel_profile(step))
        result['train'].append(row)
        if args.flops and 'flops' not in result:
            result['flops'] = counted_flops(step, b)
    x = torch.randn(8, 1, args.size, args.size, device=dev)
    for name, n, naive in [('one', 1, False), ('sixteen', 16, False), ('sixteenNaive', 16, True)]:
        result['sampling'][name] = {'batch': 8, 'samples': n, 'seconds': timed(lambda: model.sample(x, n, naive), warmup, 3 if args.device == 'cpu' else 10, args.device)}
    print(json.dumps(result))


main()
