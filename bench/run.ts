/**
 * `npm run bench`: training and sampling speed and memory of probunet against PyTorch on the same
 * cores and against the hardware's matmul peak. Writes bench/results/bench-<date>.json and
 * bench/results/latest.md, and prints the table.
 *
 * Options: --quick (a smoke run: 32×32, 1 step, small metrics workload, no PyTorch or numpy install),
 *          --backends wasm-native,wasm,cpu (default: wasm-native,wasm; cpu is pure JS and takes
 *          minutes per LIDC step),
 *          --batches 8,32, --steps N, --no-pytorch.
 * The evaluation case (packages/evaluation/bench) scores 1,980 images × 16 and × 100 samples.
 */
import { spawnSync } from 'node:child_process';
import { hostname, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@probunet/core/node';
import { samplingFlopsPerImage, trainStepFlopsPerImage } from './flops.js';
import { LIDC_CONFIG } from './lidc-config.js';

const root = new URL('..', import.meta.url).pathname;

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'wasm-native,wasm' },
    batches: { type: 'string', default: '8,32' },
    'no-parallel': { type: 'boolean', default: false },
    steps: { type: 'string', default: '3' },
    'no-pytorch': { type: 'boolean', default: false },
    from: { type: 'string' },
  },
});

if (values.from) {
  // Re-render the Markdown table of a stored result.
  const { readFile } = await import('node:fs/promises');
  const stored = JSON.parse(await readFile(values.from, 'utf8'));
  process.stdout.write(markdown(stored));
  process.exit(0);
}
const quick = values.quick!;
const size = quick ? 32 : 128;
const batches = quick ? [2] : values.batches!.split(',').map(Number);
const steps = quick ? 1 : Number(values.steps);
const log = (s: string) => process.stderr.write(`${s}\n`);

function child(cmd: string, args: string[], timeoutMs: number): { ok: boolean; json?: Record<string, unknown>; reason?: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.status === 0) {
    // A child prints either one JSON line last, or one (pretty-printed) JSON document.
    for (const text of [r.stdout?.trim().split('\n').at(-1), r.stdout]) {
      try {
        if (text) return { ok: true, json: JSON.parse(text) };
      } catch {
        /* try the next form */
      }
    }
  }
  const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const lines = (r.stderr ?? '').trim().split('\n');
  // The first line that names an error says more than the stack's last lines.
  const errorLine = lines.find((l) => /(Error|Aborted|abort|out of memory|Cannot)/.test(l) && !/^\s+at /.test(l)) ?? lines.at(-1) ?? '';
  return { ok: false, reason: `${why}: ${errorLine.trim().slice(0, 300)}` };
}

const tsx = join(root, 'node_modules/.bin/tsx');
const cases: Array<Record<string, unknown>> = [];
for (const backend of values.backends!.split(',')) {
  for (const batch of batches) {
    log(`train step: ${backend}, batch ${batch}, ${size}×${size}…`);
    const profile = batch === batches[0] ? ['--profile'] : [];
    const r = child(tsx, ['bench/train-step.ts', '--backend', backend, '--batch', String(batch), '--steps', String(steps), '--size', String(size), ...profile], 30 * 60_000);
    cases.push(r.ok ? { kind: 'train', ...r.json } : { kind: 'train', backend, batch, size, failed: r.reason });
    log(`  ${r.ok ? JSON.stringify(r.json) : `failed: ${r.reason}`}`);
  }
  if ((backend === 'wasm' || backend === 'wasm-native') && !values['no-parallel']) {
    // Data parallel: one single-threaded wasm instance per worker thread (on wasm-native, the cores
    // are shared out among the workers' native kernels); 4 workers at batch 32 keep each worker's
    // shard (8 images) inside its own 4 GiB wasm heap.
    for (const [batch, workers] of quick ? [[2, 2]] : batches.map((b) => [b, Math.max(cpus().length, Math.ceil(b / 8))])) {
      log(`train step: ${backend} × ${workers} workers, batch ${batch}…`);
      const r = child(tsx, ['bench/train-step.ts', '--backend', backend, '--workers', String(workers), '--batch', String(batch), '--steps', String(steps), '--size', String(size)], 30 * 60_000);
      cases.push(r.ok ? { kind: 'train', ...r.json, backend: `${backend} × ${workers} workers` } : { kind: 'train', backend: `${backend} × ${workers} workers`, batch, size, failed: r.reason });
      log(`  ${r.ok ? JSON.stringify(r.json) : `failed: ${r.reason}`}`);
    }
  }
  log(`sampling: ${backend}, batch 8…`);
  const r = child(tsx, ['bench/train-step.ts', '--backend', backend, '--batch', quick ? '2' : '8', '--steps', '0', '--size', String(size), '--sampling'], 30 * 60_000);
  cases.push(r.ok ? { kind: 'sampling', ...r.json } : { kind: 'sampling', backend, failed: r.reason });
  log(`  ${r.ok ? JSON.stringify(r.json) : `failed: ${r.reason}`}`);
}

log('metrics throughput…');
const metricsRun = child(tsx, ['packages/metrics/bench/metrics-bench.ts', ...(quick ? ['--images-lidc', '20', '--images-cityscapes', '2', '--numpy-images-lidc', '20', '--numpy-images-cityscapes', '1', '--no-numpy-install'] : [])], 30 * 60_000);
const metrics = metricsRun.ok ? metricsRun.json : { failed: metricsRun.reason };

log('evaluation throughput…');
const evaluation: Array<Record<string, unknown>> = [];
for (const samples of quick ? ['1,4'] : ['1,4,8,16', '100']) {
  log(`  evaluation: ${quick ? 'quick' : '1,980 images'}, sample counts ${samples}…`);
  const r = child(tsx, ['packages/evaluation/bench/evaluation-bench.ts', ...(quick ? ['--quick'] : ['--samples', samples])], 90 * 60_000);
  evaluation.push(r.ok ? r.json! : { sampleCounts: samples, failed: r.reason });
  log(`  ${r.ok ? JSON.stringify(r.json) : `failed: ${r.reason}`}`);
}

log('datasets throughput…');
const datasetsRun = child(tsx, ['packages/datasets/bench/datasets-bench.ts', ...(quick ? ['--quick'] : [])], 30 * 60_000);
const datasets = datasetsRun.ok ? datasetsRun.json : { failed: datasetsRun.reason };

let pytorch: Record<string, unknown> | undefined;
if (!values['no-pytorch']) {
  const python = '/usr/bin/python3'; // Debian's interpreter: python3-torch installs for it
  const hasTorch = () => spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (!hasTorch() && !quick) {
    log('installing PyTorch from Debian (python3-torch, OpenBLAS)…');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (hasTorch()) {
    log('PyTorch reference…');
    const r = child(python, ['bench/pytorch/prob_unet_bench.py', '--threads', String(cpus().length), '--batch', ...batches.map(String), '--size', String(size), '--steps', String(steps)], 30 * 60_000);
    pytorch = r.ok ? r.json : { failed: r.reason };
  } else {
    pytorch = { failed: quick ? 'not installed (the quick run does not install it)' : 'python3-torch could not be installed' };
  }
}

const flopsPerImage = trainStepFlopsPerImage(LIDC_CONFIG, size, size);
const result = {
  benchmark: 'probunet',
  date: new Date().toISOString(),
  machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
  config: { ...LIDC_CONFIG, size, quick },
  flops: {
    trainStepGflopPerImage: flopsPerImage / 1e9,
    sampleOneGflopPerImage: samplingFlopsPerImage(LIDC_CONFIG, size, size, 1) / 1e9,
    sampleSixteenGflopPerImage: samplingFlopsPerImage(LIDC_CONFIG, size, size, 16) / 1e9,
  },
  cases,
  metrics,
  evaluation,
  datasets,
  pytorch,
};
type BenchResult = typeof result;
const stamp = result.date.replace(/[:.]/g, '-');
await writeFileAtomic(join(root, 'bench/results', `bench-${stamp}${quick ? '-quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
const md = markdown(result);
// A smoke run (CI) fails when any case failed; in a full run a failure (e.g. a heap abort) is a result.
const failures = [...cases.filter((c) => c.failed), ...evaluation.filter((e) => e.failed), ...[metrics, datasets].filter((x) => x && 'failed' in x)];
if (quick && failures.length > 0) {
  log(`bench smoke run: ${failures.length} case(s) failed`);
  process.exitCode = 1;
}
await writeFileAtomic(join(root, 'bench/results', quick ? 'latest-quick.md' : 'latest.md'), md);
process.stdout.write(md);

function markdown(r: BenchResult): string {
  const f = (v: unknown, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
  const cell = (v: unknown) => String(v).replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 160);
  const pt = r.pytorch as { version?: string; train?: Array<{ batch: number; msPerImage: number }>; sampling?: Record<string, { seconds: number }>; matmulGflops?: number; failed?: string } | undefined;
  const lines = [
    `# probunet benchmark — ${r.date.slice(0, 10)}, ${r.machine.cpus} × ${r.machine.cpuModel ?? 'CPU'}, Node ${r.machine.node}`,
    '',
    `LIDC configuration (channels ${LIDC_CONFIG.channels.join("/")}, ${r.config.size}×${r.config.size}, 1 channel, 2 classes, latent 6): ` +
      `${f(r.flops.trainStepGflopPerImage, 2)} GFLOP per image per train step (counted from the architecture).`,
    '',
    '| train step | batch | ms / image | vs PyTorch | GFLOP/s | tensor growth / step | peak RSS (MB) | in native kernels |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const c of r.cases.filter((c) => c.kind === 'train')) {
    const t = c.train as { msPerImage: number; msPerStep: number; tensorGrowthPerStep: number; nativeMsPerStep?: number } | undefined;
    const ref = pt?.train?.find((p) => p.batch === c.batch)?.msPerImage;
    if (!t) {
      lines.push(`| ${c.backend} | ${c.batch} | failed: ${cell(c.failed)} | | | | | |`);
      continue;
    }
    const gflops = r.flops.trainStepGflopPerImage / (t.msPerImage / 1000);
    const native = t.nativeMsPerStep !== undefined ? `${f((100 * t.nativeMsPerStep) / t.msPerStep, 0)} %` : '';
    lines.push(`| ${c.backend} | ${c.batch} | ${f(t.msPerImage)} | ${ref ? `${f(t.msPerImage / ref, 2)}×` : '–'} | ${f(gflops)} | ${t.tensorGrowthPerStep} | ${f(c.peakRssMB, 0)} | ${native} |`);
  }
  for (const p of pt?.train ?? []) lines.push(`| PyTorch ${pt?.version ?? ''} | ${p.batch} | ${f(p.msPerImage)} | 1× | ${f(r.flops.trainStepGflopPerImage / (p.msPerImage / 1000))} | | | |`);
  if (pt?.failed) lines.push(`| PyTorch | | ${pt.failed} | | | | | |`);
  lines.push('', '| sampling (batch of 8 or 2) | 1 sample (ms) | 16 samples (ms) | 16 / 1 | naive 16 (ms) | naive / shared | matmul GFLOP/s |', '|---|---|---|---|---|---|---|');
  for (const c of r.cases.filter((c) => c.kind === 'sampling')) {
    const s = c.sampling as Record<string, number> | undefined;
    if (!s) {
      lines.push(`| ${c.backend} | failed: ${cell(c.failed)} | | | | | |`);
      continue;
    }
    lines.push(`| ${c.backend} | ${f(s.msOneSample, 0)} | ${f(s.msSixteenSamples, 0)} | ${f(s.ratioSixteenToOne, 2)}× | ${f(s.msSixteenNaive, 0)} | ${f(s.ratioNaiveToShared, 1)}× | ${f(c.matmulGflops)} |`);
  }
  if (pt?.sampling) {
    const s = pt.sampling;
    lines.push(`| PyTorch | ${f(1000 * s.one!.seconds, 0)} | ${f(1000 * s.sixteen!.seconds, 0)} | ${f(s.sixteen!.seconds / s.one!.seconds, 2)}× | ${f(1000 * s.sixteenNaive!.seconds, 0)} | ${f(s.sixteenNaive!.seconds / s.sixteen!.seconds, 1)}× | ${f(pt.matmulGflops)} |`);
  }
  type VsNumpy = { images: number; oursSeconds: number; numpySeconds: number; numpyOverOurs: number; maxAbsDifference: number; failed?: string };
  const m = r.metrics as { lidc?: Record<string, number>; cityscapes?: Record<string, number>; numpy?: { lidc?: VsNumpy; cityscapes?: VsNumpy; failed?: string }; failed?: string } | undefined;
  lines.push('', '| metrics | images | seconds | images / s |', '|---|---|---|---|');
  if (m?.lidc) lines.push(`| LIDC GED (16 × 4, 128²) | ${m.lidc.images} | ${f(m.lidc.gedSeconds, 2)} | ${f(m.lidc.gedImagesPerSecond, 0)} |`);
  if (m?.lidc) lines.push(`| LIDC Hungarian IoU | ${m.lidc.images} | ${f(m.lidc.hungarianSeconds, 2)} | ${f(m.lidc.hungarianImagesPerSecond, 0)} |`);
  if (m?.cityscapes) lines.push(`| Cityscapes GED (16 × 32 modes, 256×512, 10 classes) | ${m.cityscapes.images} | ${f(m.cityscapes.gedSeconds, 2)} | ${f(m.cityscapes.gedImagesPerSecond, 1)} |`);
  if (m?.failed) lines.push(`| metrics | failed: ${m.failed} | | |`);
  const vs = (name: string, v: VsNumpy | undefined) => {
    if (v?.failed) lines.push(`| ${name} | failed: ${cell(v.failed)} | | | | |`);
    else if (v) lines.push(`| ${name} | ${v.images} | ${f(v.oursSeconds, 2)} | ${f(v.numpySeconds, 2)} | ${f(v.numpyOverOurs, 2)}× | ${v.maxAbsDifference.toExponential(1)} |`);
  };
  if (m?.numpy?.failed) lines.push('', `GED vs numpy: ${cell(m.numpy.failed)}`);
  if (m?.numpy?.lidc || m?.numpy?.cityscapes) {
    lines.push('', '| GED vs numpy (`a @ a.T`), same maps | images | ours s | numpy s | numpy / ours | max diff |', '|---|---|---|---|---|---|');
    vs('LIDC, 15 % empty masks', m.numpy.lidc);
    vs('Cityscapes', m.numpy.cityscapes);
  }
  // Results stored before the evaluation case have none.
  const evaluations = (r as { evaluation?: typeof r.evaluation }).evaluation ?? [];
  if (evaluations.length > 0) {
    lines.push('', '| evaluation (LIDC config, random weights) | images | samples | seconds | images / s | sampling | metrics | peak RSS (MB) |', '|---|---|---|---|---|---|---|---|');
  }
  for (const e of evaluations) {
    const counts = Array.isArray(e.sampleCounts) ? e.sampleCounts.join(', ') : String(e.sampleCounts);
    if (e.failed) lines.push(`| ${e.size ?? ''} | | ${counts} | failed: ${cell(e.failed)} | | | | |`);
    else lines.push(`| ${e.backend}, ${e.size}², batch ${e.batchSize} | ${e.images} | ${counts} | ${f(e.seconds)} | ${f(e.imagesPerSecond, 2)} | ${f(100 * (e.samplingShare as number), 0)} % | ${f(100 * (e.metricsShare as number), 0)} % | ${f(e.peakRssMB, 0)} |`);
  }
  for (const c of r.cases.filter((c) => c.kind === 'train' && Array.isArray(c.profile))) {
    const prof = c.profile as Array<{ kernel: string; ms: number; calls: number; share: number }>;
    lines.push('', `Where a ${c.backend} train step (batch ${c.batch}) spends its kernel time:`, '', '| kernel | ms | calls | share |', '|---|---|---|---|');
    for (const p of prof) lines.push(`| ${p.kernel} | ${p.ms} | ${p.calls} | ${(100 * p.share).toFixed(1)} % |`);
  }
  const d = r.datasets as Record<string, { examplesPerSecond?: number }> & { failed?: string } | undefined;
  lines.push('', '| data source | examples / s |', '|---|---|');
  if (d?.failed) lines.push(`| datasets | failed: ${d.failed} |`);
  else for (const [k, v] of Object.entries(d ?? {})) if (typeof v === 'object' && v && 'examplesPerSecond' in v) lines.push(`| ${k} | ${f(v.examplesPerSecond)} |`);
  if (pt?.matmulGflops) {
    lines.push('', `Roofline: at PyTorch's measured matmul peak (${f(pt.matmulGflops)} GFLOP/s) a train step of this model could take ${f((1000 * r.flops.trainStepGflopPerImage) / pt.matmulGflops)} ms per image.`);
  }
  return `${lines.join('\n')}\n`;
}
