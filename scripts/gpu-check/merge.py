"""Merges the GPU check's parts into OUT_DIR/report.json and OUT_DIR/summary.md.

    python3 merge.py WORK_DIR OUT_DIR PACK_DIR

Called by run.sh on exit (also after a failure), so whatever ran is reported. Reads the shell's
steps (steps.jsonl), the WebGPU part (webgpu.json), PyTorch's runs (pytorch-tf32-{off,on}.json),
nvidia-smi's readings and the GPU memory sampled while each part ran. Ratios are WebGPU's time over
PyTorch's, per image, from this one run. Standard library only (runs on any Python 3).
"""
import json
import os
import platform
import socket
import sys
from datetime import datetime, timezone

SCHEMA = 'probunet-gpu-check/1'


def read_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        # PyTorch's script prints one JSON object last; warnings may come before it.
        return json.loads(text.splitlines()[-1] if text and not text.startswith('{\n') else text)
    except (OSError, ValueError, IndexError):
        return None


def read_lines(path):
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        return []


def peak_mib(path):
    values = []
    for line in read_lines(path):
        try:
            values.append(float(line.split(',')[0]))
        except ValueError:
            pass
    return max(values) if values else None


def main(work, out, pack):
    steps = [json.loads(line) for line in read_lines(os.path.join(work, 'steps.jsonl'))]
    webgpu = read_json(os.path.join(work, 'webgpu.json'))
    torch_fp32 = read_json(os.path.join(work, 'pytorch-tf32-off.json'))
    torch_tf32 = read_json(os.path.join(work, 'pytorch-tf32-on.json'))
    torch_layers = [j for j in (read_json(os.path.join(work, f)) for f in sorted(os.listdir(work)) if f.startswith('pytorch-layers-') and f.endswith('.json')) if j]
    manifest = read_lines(os.path.join(pack, 'MANIFEST'))[:3]
    smi = read_lines(os.path.join(work, 'nvidia-smi.csv'))
    gpu = dict(zip([h.strip() for h in smi[0].split(',')], [v.strip() for v in smi[1].split(',')])) if len(smi) > 1 else None
    idle = peak_mib(os.path.join(work, 'memory-idle.txt'))

    report = {
        'schema': SCHEMA,
        'createdAt': datetime.now(timezone.utc).isoformat(timespec='seconds'),
        'machine': {'hostname': socket.gethostname(), 'cpus': os.cpu_count(), 'platform': platform.platform(), 'gpu': gpu},
        'pack': manifest,
        'steps': steps + [dict(s, name='webgpu: ' + s['name']) for s in (webgpu or {}).get('steps', [])],
        'adapter': (webgpu or {}).get('adapter'),
        'backend': (webgpu or {}).get('backend'),
        'parity': (webgpu or {}).get('parity'),
        'parityStockBackprop': (webgpu or {}).get('parityStockBackprop'),
        'webgpu': (webgpu or {}).get('speed'),
        'pytorch': {'fp32': torch_fp32, 'tf32': torch_tf32, 'layers': torch_layers},
        'gpuMemoryPeakMiB': {
            'idle': idle,
            'webgpu': peak_mib(os.path.join(work, 'memory-webgpu.txt')),
            'pytorchFp32': peak_mib(os.path.join(work, 'memory-pytorch-tf32-off.txt')),
            'pytorchTf32': peak_mib(os.path.join(work, 'memory-pytorch-tf32-on.txt')),
            'note': 'nvidia-smi memory.used sampled every 200 ms while each part ran (the whole device, idle usage included)',
        },
        'ratios': [],
    }
    speed = report['webgpu'] or {}
    reduced = bool(speed.get('reduced'))
    for name, torch in (('fp32', torch_fp32), ('tf32', torch_tf32)):
        if not torch or reduced:
            continue
        by_batch = {row['batch']: row for row in torch.get('train', [])}
        for row in train_rows(speed):
            ref = by_batch.get(row['batch'])
            if ref:
                report['ratios'].append({'what': 'train step, ms per image', 'batch': row['batch'], 'variant': row.get('variant'), 'pytorch': name,
                                         'webgpu': row['msPerImage'], 'pytorchMs': ref['msPerImage'], 'ratio': row['msPerImage'] / ref['msPerImage']})
        samp, tsamp = speed.get('sampling'), torch.get('sampling', {})
        if samp and 'sixteen' in tsamp:
            report['ratios'].append({'what': '16 samples, batch 8, ms', 'pytorch': name, 'webgpu': samp['msSixteenSamples'],
                                     'pytorchMs': 1000 * tsamp['sixteen']['seconds'], 'ratio': samp['msSixteenSamples'] / (1000 * tsamp['sixteen']['seconds'])})
    # Per layer: our kernels and the stock ones against PyTorch fp32, same shapes, same batch.
    for ours in speed.get('layers') or []:
        ref = next((t for t in torch_layers if t.get('batch') == ours.get('batch') and t.get('size') == speed.get('size')), None)
        if not ref:
            continue
        by_key = {(row['layer'], row['pass']): row['ms'] for row in ref.get('rows', [])}
        totals = {}
        for row in ours.get('rows', []):
            ms = by_key.get((row['layer'], row['pass']))
            if ms:
                row['pytorchMs'] = ms
                row['oursOverPytorch'] = row['msOurs'] / ms
                row['stockOverPytorch'] = row['msStock'] / ms
                t = totals.setdefault(row['pass'], {'ours': 0, 'stock': 0, 'pytorch': 0})
                t['ours'] += row['msOurs'] * row['count']
                t['stock'] += row['msStock'] * row['count']
                t['pytorch'] += ms * row['count']
        for name, t in totals.items():
            for kind in ('ours', 'stock'):
                report['ratios'].append({'what': f'per layer, {name}, ms summed over the step', 'batch': ours['batch'], 'variant': kind, 'pytorch': 'fp32',
                                         'webgpu': t[kind], 'pytorchMs': t['pytorch'], 'ratio': t[kind] / t['pytorch']})
    report['ok'] = all(s.get('status') in ('ok', 'skipped') for s in report['steps']) and bool(report['steps'])

    tmp = os.path.join(out, '.report.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(report, f, indent=2)
        f.write('\n')
    os.replace(tmp, os.path.join(out, 'report.json'))
    with open(os.path.join(out, 'summary.md'), 'w') as f:
        f.write(summary(report))
    print(summary(report))


def train_rows(speed):
    return speed.get('train', []) + (speed.get('forwardConv') or {}).get('train', []) + (speed.get('stockBackprop') or {}).get('train', [])


def fmt(v, digits=1):
    return '–' if v is None else f'{v:,.{digits}f}'


def summary(r):
    a = r.get('adapter') or {}
    lines = [f"# probunet GPU check, {r['createdAt']}", '',
             f"GPU: {(r['machine'].get('gpu') or {}).get('name', 'none')}; adapter: {a.get('vendor', '?')} / {a.get('architecture', '?')} / {a.get('description', '?')} (Dawn {a.get('dawnBackend', '?')}{', software' if a.get('software') else ''})", '',
             '| step | status | s | note |', '|---|---|---|---|']
    for s in r['steps']:
        lines.append(f"| {s['name']} | {s['status']} | {s.get('seconds', 0):.1f} | {(s.get('reason') or '').replace('|', '/')[:160]} |")
    for key, what in (('parity', 'our kernels'), ('parityStockBackprop', 'stock kernels')):
        p = r.get(key)
        if not p:
            continue
        lines += ['', f"Parity, {what} ({'pass' if p['pass'] else 'FAIL'}, tolerance {p['tolerance']}): reconstruction rel. err {p['reconstruction']['relativeError']:.1e}, "
                  f"KL {p['kl']['relativeError']:.1e}, worst gradient {p['gradients']['worst']['name']} {p['gradients']['worst']['relativeL2']:.1e} "
                  f"(of {p['gradients']['count']}), filter gradient at N·H·W = 65,536 {p['filterGradientLarge']['relativeL2']:.1e}, "
                  f"16 samples agree {100 * p['samples']['agreement']:.2f} %"]
    w = r.get('webgpu') or {}
    if w:
        lines += ['', f"Speed ({w.get('note', '')}):", '', '| WebGPU conv gradient | batch | WebGPU ms/image | PyTorch fp32 | ratio | PyTorch TF32 | ratio |', '|---|---|---|---|---|---|---|']
        ratios = {(x.get('batch'), x.get('variant'), x['pytorch']): x for x in r['ratios'] if x['what'].startswith('train step')}
        for row in train_rows(w):
            f32, t32 = ratios.get((row['batch'], row.get('variant'), 'fp32')), ratios.get((row['batch'], row.get('variant'), 'tf32'))
            lines.append(f"| {row.get('variant', '')} | {row['batch']} | {fmt(row['msPerImage'], 2)} | {fmt(f32 and f32['pytorchMs'], 2)} | {fmt(f32 and f32['ratio'], 2)}× | "
                         f"{fmt(t32 and t32['pytorchMs'], 2)} | {fmt(t32 and t32['ratio'], 2)}× |")
        s = w.get('sampling')
        if s:
            lines.append(f"\nSampling, batch 8: 1 sample {fmt(s['msOneSample'])} ms, 16 samples {fmt(s['msSixteenSamples'])} ms ({s['ratioSixteenToOne']:.2f}×)")
    for t in w.get('layers') or []:
        lines += ['', f"Per layer, batch {t['batch']}, {w.get('size')}×{w.get('size')} (ms summed over the step's 3×3 convolutions; ours: {t['kernels']['ours']}):", '',
                  '| pass | ours | stock | stock / ours | PyTorch fp32 | ours / PyTorch |', '|---|---|---|---|---|---|']
        per = {x['what'].split(', ')[1]: x for x in r['ratios'] if x['what'].startswith('per layer') and x.get('batch') == t['batch'] and x['variant'] == 'ours'}
        for name, v in (t.get('totals', {}).get('byPass') or {}).items():
            p = per.get(name)
            lines.append(f"| {name} | {fmt(v['ours'], 1)} | {fmt(v['stock'], 1)} | {fmt(v['stockOverOurs'], 2)}× | {fmt(p and p['pytorchMs'], 1)} | {fmt(p and p['ratio'], 2)}× |")
    m = r['gpuMemoryPeakMiB']
    lines.append(f"\nGPU memory peak (MiB, nvidia-smi): idle {fmt(m['idle'], 0)}, WebGPU {fmt(m['webgpu'], 0)}, PyTorch fp32 {fmt(m['pytorchFp32'], 0)}, TF32 {fmt(m['pytorchTf32'], 0)}")
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main(*sys.argv[1:4])
