/**
 * `npm run bench`: training and sampling speed and memory of probunet against PyTorch on the same
 * cores and against the hardware's matmul peak. Writes bench/results/bench-<date>.json and
 * bench/results/latest.md, and prints the table.
 *
 * Options: --quick (a smoke run: 32×32, 1 step, small metrics workload, no PyTorch or numpy install),
 *          --backends native,wasm-native,wasm,cpu (default: native,wasm-native,wasm; cpu is pure JS and takes
 *          minutes per LIDC step),
 *          --batches 8,32, --steps N, --no-pytorch, --pytorch-rounds N (default 2: PyTorch's
 *          allocator configurations alternate over N rounds, and the native and wasm-native train
 *          steps take a turn in each round: every figure is a best of as many runs), --train-only (no metrics, evaluation
 *          or datasets throughput).
 * The evaluation case (packages/evaluation/bench) scores 1,980 images × 16 and × 100 samples.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@probunet/core/node';
import { samplingFlopsPerImage, trainStepFlopsPerImage } from './flops.js';
import { LIDC_CONFIG } from './lidc-config.js';
import { PYTORCH_ALLOCATORS, child, root } from './processes.js';
import { machineInfo } from './bench-utils.js';


const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'native,wasm-native,wasm' },
    batches: { type: 'string', default: '8,32' },
    'no-parallel': { type: 'boolean', default: false },
    steps: { type: 'string', default: '3' },
    'no-pytorch': { type: 'boolean', default: false },
    'pytorch-rounds': { type: 'string', default: '2' },
    'train-only': { type: 'boolean', default: false },
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

// --train-only: the train-step comparison alone (train steps, sampling, PyTorch, FMA peak), e.g. to
// rerun the PyTorch anchor without the throughput cases.
const trainOnly = values['train-only']!;
const skipped = { failed: 'skipped (--train-only)' };
let metrics: Record<string, unknown> | undefined = skipped;
const evaluation: Array<Record<string, unknown>> = [];
let datasets: Record<string, unknown> | undefined = skipped;
if (!trainOnly) {
  log('metrics throughput…');
  const metricsRun = child(tsx, ['packages/metrics/bench/metrics-bench.ts', ...(quick ? ['--images-lidc', '20', '--images-cityscapes', '2', '--numpy-images-lidc', '20', '--numpy-images-cityscapes', '1', '--no-numpy-install'] : [])], 30 * 60_000);
  metrics = metricsRun.ok ? metricsRun.json : { failed: metricsRun.reason };

  log('evaluation throughput…');
  for (const samples of quick ? ['1,4'] : ['1,4,8,16', '100']) {
    log(`  evaluation: ${quick ? 'quick' : '1,980 images'}, sample counts ${samples}…`);
    const r = child(tsx, ['packages/evaluation/bench/evaluation-bench.ts', ...(quick ? ['--quick'] : ['--samples', samples])], 90 * 60_000);
    evaluation.push(r.ok ? r.json! : { sampleCounts: samples, failed: r.reason });
    log(`  ${r.ok ? JSON.stringify(r.json) : `failed: ${r.reason}`}`);
  }

  log('datasets throughput…');
  const datasetsRun = child(tsx, ['packages/datasets/bench/datasets-bench.ts', ...(quick ? ['--quick'] : [])], 30 * 60_000);
  datasets = datasetsRun.ok ? datasetsRun.json : { failed: datasetsRun.reason };
}

type PytorchTrainRow = { batch: number; msPerImage: number };
// The single-process backends whose train steps alternate with PyTorch's rounds.
const ALTERNATED = ['native', 'wasm-native'];
type PytorchRun = { allocator: string; version?: string; train?: PytorchTrainRow[]; sampling?: Record<string, { seconds: number }>; matmulGflops?: number; flops?: unknown; failed?: string };
let pytorch: (Record<string, unknown> & { runs?: PytorchRun[]; best?: Record<string, { allocator: string; msPerImage: number }> }) | undefined;
if (!values['no-pytorch']) {
  const python = '/usr/bin/python3'; // Debian's interpreter: python3-torch installs for it
  const hasTorch = () => spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (!quick) {
    const missing = !hasTorch() || PYTORCH_ALLOCATORS.some((a) => a.preload && !existsSync(a.preload));
    if (missing) {
      log('installing PyTorch and its allocators from Debian (python3-torch with OpenBLAS, jemalloc, tcmalloc)…');
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
      spawnSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread', 'libjemalloc2', 'libtcmalloc-minimal4'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
  }
  if (hasTorch()) {
    const runs: PytorchRun[] = [];
    const rounds = Number(values['pytorch-rounds']);
    for (let round = 0; round < rounds; round++) {
      for (const a of PYTORCH_ALLOCATORS) {
        if (a.preload && !existsSync(a.preload)) {
          if (round === 0) runs.push({ allocator: a.name, failed: `${a.preload} is missing (apt-get install ${a.name === 'jemalloc' ? 'libjemalloc2' : 'libtcmalloc-minimal4'})` });
          continue;
        }
        log(`PyTorch reference, ${a.name}, round ${round + 1}/${rounds}…`);
        const flops = round === 0 && a === PYTORCH_ALLOCATORS[0] ? ['--flops'] : [];
        const env = { ...process.env, ...a.env, ...(a.preload ? { LD_PRELOAD: a.preload } : {}) };
        const r = child(python, ['bench/pytorch/prob_unet_bench.py', '--threads', String(cpus().length), '--batch', ...batches.map(String), '--size', String(size), '--steps', String(steps), ...flops], 30 * 60_000, env);
        runs.push(r.ok ? { allocator: a.name, ...(r.json as object) } : { allocator: a.name, failed: r.reason ?? "failed" });
        log(`  ${r.ok ? JSON.stringify((r.json as { train?: unknown }).train) : `failed: ${r.reason}`}`);
      }
      // Our native backends' train steps take their turn in every round too, so that PyTorch's best
      // of several rounds is read against ours over as many (a noisy minute costs both alike).
      for (const c of cases) {
        const t = c.train as { msPerImage: number; msPerImageRuns?: number[] } | undefined;
        if (c.kind !== 'train' || !t || !ALTERNATED.includes(String(c.backend))) continue;
        log(`train step: ${c.backend}, batch ${c.batch}, alternating with PyTorch, round ${round + 1}/${rounds}…`);
        const r = child(tsx, ['bench/train-step.ts', '--backend', String(c.backend), '--batch', String(c.batch), '--steps', String(steps), '--size', String(size)], 30 * 60_000);
        const ms = (r.json as { train?: { msPerImage?: number } } | undefined)?.train?.msPerImage;
        log(`  ${r.ok ? `${ms?.toFixed(1)} ms per image` : `failed: ${r.reason}`}`);
        if (typeof ms !== 'number') continue;
        t.msPerImageRuns = [...(t.msPerImageRuns ?? [t.msPerImage]), ms];
      }
    }
    pytorch = { ...bestPytorch(runs), runs };
  } else {
    pytorch = { failed: quick ? 'not installed (the quick run does not install it)' : 'python3-torch could not be installed' };
  }
}

/** Per allocator the best round per batch; per batch the fastest allocator (the reference). */
function bestPytorch(runs: PytorchRun[]) {
  const byAllocator: Record<string, PytorchTrainRow[]> = {};
  for (const run of runs) {
    for (const row of run.train ?? []) {
      const rows = (byAllocator[run.allocator] ??= []);
      const prev = rows.find((x) => x.batch === row.batch);
      if (!prev) rows.push({ batch: row.batch, msPerImage: row.msPerImage });
      else prev.msPerImage = Math.min(prev.msPerImage, row.msPerImage);
    }
  }
  const best: Record<string, { allocator: string; msPerImage: number }> = {};
  for (const [allocator, rows] of Object.entries(byAllocator)) {
    for (const row of rows) {
      const b = best[String(row.batch)];
      if (!b || row.msPerImage < b.msPerImage) best[String(row.batch)] = { allocator, msPerImage: row.msPerImage };
    }
  }
  const first = runs.find((r) => r.train);
  const reference = runs.filter((r) => r.sampling && r.allocator === (best[String(batches[0])]?.allocator ?? '')).at(-1) ?? first;
  return {
    version: first?.version,
    byAllocator,
    best,
    // The fastest allocator's sampling and matmul figures (same process as its train steps).
    sampling: reference?.sampling,
    matmulGflops: reference?.matmulGflops,
    flops: runs.find((r) => r.flops)?.flops,
  };
}

// The machine's FMA ceiling (register-resident chains; bench/peak/fma-peak.c), the bound every
// GFLOP/s figure here is read against.
let fmaPeak: Record<string, unknown> | undefined;
{
  const exe = join(tmpdir(), `probunet-fma-peak-${process.pid}`);
  const cc = spawnSync('cc', ['-O2', '-pthread', join(root, 'bench/peak/fma-peak.c'), '-o', exe], { encoding: 'utf8' });
  if (cc.status !== 0) fmaPeak = { failed: `cc could not build bench/peak/fma-peak.c: ${(cc.stderr || cc.error?.message || '').trim().slice(0, 200)}` };
  else {
    log('FMA peak…');
    const r = child(exe, [String(cpus().length)], 5 * 60_000);
    fmaPeak = r.ok ? r.json : { failed: r.reason };
    rmSync(exe, { force: true });
  }
}

// The native kernels layer by layer against that peak (bench/native-layers.ts): what a train step
// costs in its convolutions alone, and how far each is from the ceiling.
let nativeLayers: Record<string, unknown> | undefined;
if (values.backends!.split(',').some((b) => b === 'wasm-native' || b === 'native')) {
  log('native kernels per layer…');
  const peakArg = Math.max(Number((fmaPeak as { avx2?: { allThreadsGflops?: number } } | undefined)?.avx2?.allThreadsGflops ?? NaN), Number((fmaPeak as { avx512?: { allThreadsGflops?: number } } | undefined)?.avx512?.allThreadsGflops ?? NaN));
  const r = child(tsx, ['bench/native-layers.ts', '--batch', String(batches[0]), '--size', String(size), ...(Number.isFinite(peakArg) ? ['--peak', String(peakArg)] : [])], 30 * 60_000);
  nativeLayers = r.ok ? r.json : { failed: r.reason };
}

// WebGPU's convolution kernels layer by layer against tfjs-webgpu's stock ones (bench/webgpu-layers.ts),
// at a size the software adapter gets through (the GPU check measures 128×128 on a GPU).
let webgpuLayers: Record<string, unknown> | undefined;
if (values.backends!.split(',').includes('webgpu')) {
  log('webgpu kernels per layer…');
  const r = child(tsx, ['bench/webgpu-layers.ts', '--batch', quick ? '1' : '2', '--size', quick ? '16' : '64', '--reps', quick ? '1' : '3'], 30 * 60_000);
  webgpuLayers = r.ok ? r.json : { failed: r.reason };
}

const flopsPerImage = trainStepFlopsPerImage(LIDC_CONFIG, size, size);
const result = {
  benchmark: 'probunet',
  date: new Date().toISOString(),
  machine: machineInfo(),
  config: { ...LIDC_CONFIG, size, quick },
  flops: {
    trainStepGflopPerImage: flopsPerImage / 1e9,
    sampleOneGflopPerImage: samplingFlopsPerImage(LIDC_CONFIG, size, size, 1) / 1e9,
    sampleSixteenGflopPerImage: samplingFlopsPerImage(LIDC_CONFIG, size, size, 16) / 1e9,
  },
  fmaPeak,
  nativeLayers,
  webgpuLayers,
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
const failures = [...cases.filter((c) => c.failed), ...evaluation.filter((e) => e.failed), ...(trainOnly ? [] : [metrics, datasets].filter((x) => x && 'failed' in x))];
if (quick && failures.length > 0) {
  log(`bench smoke run: ${failures.length} case(s) failed`);
  process.exitCode = 1;
}
await writeFileAtomic(join(root, 'bench/results', quick ? 'latest-quick.md' : 'latest.md'), md);
process.stdout.write(md);

function markdown(r: BenchResult): string {
  const f = (v: unknown, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
  const cell = (v: unknown) => String(v).replace(/\|/g, '/').replace(/\s+/g, ' ').slice(0, 160);
  const pt = r.pytorch as
    | { version?: string; train?: PytorchTrainRow[]; best?: Record<string, { allocator: string; msPerImage: number }>; byAllocator?: Record<string, PytorchTrainRow[]>; sampling?: Record<string, { seconds: number }>; matmulGflops?: number; flops?: { forwardConvGflopPerImage?: number }; failed?: string }
    | undefined;
  // Results stored before the allocator comparison have one PyTorch configuration (`train`).
  const reference = (batch: unknown) => pt?.best?.[String(batch)]?.msPerImage ?? pt?.train?.find((p) => p.batch === batch)?.msPerImage;
  // Results since 2026-12-01 evening record the native kernels' configuration per train case.
  const winogradRan = r.cases.some((c) => (c as { nativeKernels?: { winograd?: boolean } }).nativeKernels?.winograd === true);
  const peak = (r as { fmaPeak?: { avx2?: { allThreadsGflops: number }; avx512?: { allThreadsGflops: number } | null; failed?: string } }).fmaPeak;
  const peakGflops = Math.max(peak?.avx2?.allThreadsGflops ?? NaN, peak?.avx512?.allThreadsGflops ?? NaN);
  const ofPeak = (gflops: number) => (Number.isFinite(peakGflops) ? `${f((100 * gflops) / peakGflops, 0)} %` : '–');
  const lines = [
    `# probunet benchmark — ${r.date.slice(0, 10)}, ${r.machine.cpus} × ${r.machine.cpuModel ?? 'CPU'}, Node ${r.machine.node}`,
    '',
    `LIDC configuration (channels ${LIDC_CONFIG.channels.join("/")}, ${r.config.size}×${r.config.size}, 1 channel, 2 classes, latent 6): ` +
      `${f(r.flops.trainStepGflopPerImage, 2)} GFLOP per image per train step (counted from the architecture).`,
    '',
    ...(peak && !peak.failed
      ? [
          `FMA peak of this machine (float32, register-resident chains, all ${r.machine.cpus} cores): AVX2 ${f(peak.avx2?.allThreadsGflops)} GFLOP/s, ` +
            `AVX-512 ${peak.avx512 ? `${f(peak.avx512.allThreadsGflops)} GFLOP/s` : 'not available'} (bench/peak/fma-peak.c).`,
          '',
        ]
      : peak?.failed
        ? [`FMA peak: ${cell(peak.failed)}`, '']
        : []),
    ...(pt?.flops?.forwardConvGflopPerImage
      ? [`FLOP check: PyTorch's profiler counts ${f(pt.flops.forwardConvGflopPerImage, 3)} GFLOP of forward convolutions per image; bench/flops.ts counts ${f(r.flops.trainStepGflopPerImage / 3, 3)} for the forward pass.`, '']
      : []),
    `"vs PyTorch" is against the fastest PyTorch configuration at that batch${pt?.best ? ' (allocators alternated over rounds, best round each)' : ''}.` +
      (winogradRan ? ' GFLOP/s count the step as direct convolutions: where native runs 3×3 layers as Winograd, the rate is effective.' : ''),
    '',
    '| train step | batch | ms / image | vs PyTorch | GFLOP/s | of FMA peak | tensor growth / step | peak RSS (MB) | in native kernels |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const c of r.cases.filter((c) => c.kind === 'train')) {
    const t = c.train as { msPerImage: number; msPerImageRuns?: number[]; msPerStep: number; meanMsPerStep?: number; tensorGrowthPerStep: number; nativeMsPerStep?: number } | undefined;
    const ref = reference(c.batch);
    if (!t) {
      lines.push(`| ${c.backend} | ${c.batch} | failed: ${cell(c.failed)} | | | | | | |`);
      continue;
    }
    // Alternated with PyTorch's rounds: the best run, as PyTorch's figure is its best round.
    const ms = t.msPerImageRuns ? Math.min(...t.msPerImageRuns) : t.msPerImage;
    const gflops = r.flops.trainStepGflopPerImage / (ms / 1000);
    // Both means (older results have only the median step).
    const native = t.nativeMsPerStep !== undefined ? `${f((100 * t.nativeMsPerStep) / (t.meanMsPerStep ?? t.msPerStep), 0)} %` : '';
    const runs = t.msPerImageRuns ? ` (best of ${t.msPerImageRuns.length}: ${t.msPerImageRuns.map((v) => f(v)).join(', ')})` : '';
    lines.push(`| ${c.backend} | ${c.batch} | ${f(ms)}${runs} | ${ref ? `${f(ms / ref, 2)}×` : '–'} | ${f(gflops)} | ${ofPeak(gflops)} | ${t.tensorGrowthPerStep} | ${f(c.peakRssMB, 0)} | ${native} |`);
  }
  const pytorchRows: Array<[string, PytorchTrainRow]> = pt?.byAllocator ? Object.entries(pt.byAllocator).flatMap(([a, rows]) => rows.map((row) => [a, row] as [string, PytorchTrainRow])) : (pt?.train ?? []).map((row) => ['', row]);
  for (const [allocator, p] of pytorchRows) {
    const gflops = r.flops.trainStepGflopPerImage / (p.msPerImage / 1000);
    const ref = reference(p.batch);
    lines.push(`| PyTorch ${pt?.version ?? ''}${allocator ? `, ${allocator}` : ''} | ${p.batch} | ${f(p.msPerImage)} | ${ref ? `${f(p.msPerImage / ref, 2)}×` : '1×'} | ${f(gflops)} | ${ofPeak(gflops)} | | | |`);
  }
  if (pt?.failed) lines.push(`| PyTorch | | ${pt.failed} | | | | | | |`);
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
  // ofPeak: results before 2026-12-01 evening (one timing per pass, the direct product).
  type LayerRow = { layer: string; shape: string; count: number; pass: string; ms: number; gflops: number; ofPeak?: number | null; gflopsDirect?: number; ofPeakDirect?: number | null };
  const nl = (r as unknown as { nativeLayers?: { batch: number; winograd?: boolean; rows?: LayerRow[]; totals?: Record<string, number>; totalsDirect?: Record<string, number>; failed?: string } }).nativeLayers;
  if (nl?.failed) lines.push('', `Native kernels per layer: ${cell(nl.failed)}`);
  if (nl?.rows && nl.totals) {
    const totals = (t: Record<string, number>) =>
      `${f(t.msPerImage)} ms per image in all (forward ${f(t.forward! / nl.batch)}, input gradients ${f(t.inputGradient! / nl.batch)}, filter gradients ${f(t.filterGradient! / nl.batch)}), ${f(t.gflops)} GFLOP/s`;
    lines.push(
      '',
      `Native convolution kernels alone, per layer shape (batch ${nl.batch}, all cores; × = layers of that shape in one step): ` +
        `${totals(nl.totals)}${nl.totalsDirect ? `; as the direct product, ${totals(nl.totalsDirect)}` : ''}.` +
        (nl.winograd
          ? ' GFLOP/s count the direct convolution\'s FLOPs: for Winograd (the default for these layers) an effective rate, which can exceed the FMA peak; the share of the peak is the direct product\'s.'
          : ' Every pass ran as the direct product.'),
      '',
      '| layer shape | × | forward GFLOP/s | input grad. GFLOP/s | filter grad. GFLOP/s | direct product (fwd / in / filter) | direct, of FMA peak |',
      '|---|---|---|---|---|---|---|',
    );
    for (const shape of [...new Set(nl.rows.map((x) => x.shape))]) {
      const pass = (p: string) => nl.rows!.find((x) => x.shape === shape && x.pass === p);
      const [fw, ig, fg] = [pass('forward'), pass('inputGradient'), pass('filterGradient')];
      const pct = (x: LayerRow | undefined) => {
        const v = x?.ofPeakDirect ?? x?.ofPeak;
        return v != null ? `${f(100 * v, 0)} %` : '–';
      };
      const direct = (x: LayerRow | undefined) => f(x?.gflopsDirect ?? x?.gflops);
      lines.push(`| ${shape} | ${fw?.count ?? ''} | ${f(fw?.gflops)} | ${f(ig?.gflops)} | ${f(fg?.gflops)} | ${direct(fw)} / ${direct(ig)} / ${direct(fg)} | ${pct(fw)} / ${pct(ig)} / ${pct(fg)} |`);
    }
  }
  if (Number.isFinite(peakGflops)) {
    lines.push(
      '',
      `Ceiling: at the machine's FMA peak (${f(peakGflops)} GFLOP/s) a train step of this model with direct convolutions cannot take less than ${f((1000 * r.flops.trainStepGflopPerImage) / peakGflops)} ms per image.` +
        (winogradRan || nl?.winograd ? ' Winograd F(2×2, 3×3) multiplies 16/36 as often in the 3×3 stride-1 layers, so the native kernels can go below it.' : ''),
    );
  }
  if (pt?.matmulGflops) {
    lines.push('', `PyTorch's 2048³ matmul runs at ${f(pt.matmulGflops)} GFLOP/s here (a train step at that rate: ${f((1000 * r.flops.trainStepGflopPerImage) / pt.matmulGflops)} ms per image).`);
  }
  return `${lines.join('\n')}\n`;
}
