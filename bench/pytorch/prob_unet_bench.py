"""PyTorch reference for `npm run bench`: the same Probabilistic U-Net as @probunet/core (the
authors' architecture, see shared/PAPER.md), timed on the same cores. Our own code, written for
this comparison; NCHW, PyTorch's native layout. Prints one JSON object.

    /usr/bin/python3 bench/pytorch/prob_unet_bench.py --threads 2 --batch 8 --steps 5
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


def timed(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, nargs='+', default=[8])
    ap.add_argument('--size', type=int, default=128)
    ap.add_argument('--steps', type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ProbUNet(1, 2, [32, 64, 128, 192], 3, 6, 3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    result = {'framework': 'pytorch', 'version': torch.__version__, 'threads': torch.get_num_threads(),
              'blas': torch.__config__.show().split('BLAS_INFO=')[-1].split(',')[0] if 'BLAS_INFO=' in torch.__config__.show() else 'unknown',
              'train': [], 'sampling': {}}
    a = torch.randn(2048, 2048)
    result['matmulGflops'] = 2 * 2048 ** 3 / timed(lambda: a @ a, 1, 5) / 1e9
    for b in args.batch:
        x = torch.randn(b, 1, args.size, args.size)
        y = (torch.rand(b, args.size, args.size) > 0.5).long()

        def step():
            opt.zero_grad()
            model.loss(x, y).backward()
            opt.step()
        s = timed(step, 1, args.steps)
        result['train'].append({'batch': b, 'secondsPerStep': s, 'msPerImage': 1000 * s / b})
    x = torch.randn(8, 1, args.size, args.size)
    for name, n, naive in [('one', 1, False), ('sixteen', 16, False), ('sixteenNaive', 16, True)]:
        result['sampling'][name] = {'batch': 8, 'samples': n, 'seconds': timed(lambda: model.sample(x, n, naive), 1, 3)}
    print(json.dumps(result))


main()
