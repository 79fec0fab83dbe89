/**
 * The GPU check's Node.js part (scripts/gpu-check/README.md). Two modes:
 *
 *   reference --out DIR   on our CPU machines, at pack time: the parity case on the cpu backend;
 *                         writes DIR/reference.json (weights, inputs, −ELBO terms, every gradient,
 *                         a train step's figures, 16 samples).
 *   run --ref DIR --out F on the machine under test, from the bundle: WebGPU through Dawn (Vulkan on
 *                         a GPU, OpenGL on Mesa elsewhere), parity against the reference, then speed
 *                         of the LIDC configuration. Writes F after every step (atomically), so a
 *                         crash in the first minute still leaves what ran and what failed.
 *
 * Bundled by pack.sh into one file with esbuild: tfjs-core, tfjs-backend-webgpu and our packages;
 * Dawn's `dawn.node` is loaded from PROBUNET_DAWN_NODE when set (no node_modules there).
 */
import { createRequire } from 'node:module';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { formatBackendReport, initBackend, setWebgpuConvKernels, setWebgpuFilterGradKernel, type ModuleLoaders } from '@probunet/backends';
import { Trainer, createProbUNet, type ProbUNet } from '@probunet/core';
import { backendCapabilities, capabilityMarker, conv2dFilterGrad } from '@probunet/core/internal';
import { webgpuLayerTimes } from '../../bench/webgpu-layer-times.js';

/** Whether conv2dSame's filter gradient runs the Conv2DBackpropFilter kernel (ours or stock). */
const usesFilterGradKernel = () => backendCapabilities().exactConvBackprop || backendCapabilities().exactFilterGrad;

/**
 * Which convolution kernels a train step runs:
 * - 'ours' (what initBackend('webgpu') installs): the GEMM forward (bias + relu fused) and input
 *   gradient, the split-K filter gradient, both backprop kernels called directly (exactConvBackprop);
 * - 'splitk' (the default from 2026-12-01 until the GEMM kernels): tfjs-webgpu's forward
 *   convolutions, core's forward-conv input gradient, the split-K filter gradient;
 * - 'forward': tfjs-webgpu's forward convolutions, core's forward-conv formulation for both gradients;
 * - 'stock': tfjs-webgpu's own kernels throughout (its Conv2DBackpropInput/Filter called directly).
 */
type Variant = 'ours' | 'splitk' | 'forward' | 'stock';
const VARIANT_LABELS: Record<Variant, string> = {
  ours: 'GEMM convolutions + split-K filter gradient',
  splitk: 'split-K filter gradient',
  forward: 'forward-conv gradient',
  stock: 'stock tfjs-webgpu kernels',
};
let variant: Variant = 'ours';
function setVariant(v: Variant): void {
  const mark = (capability: 'exactConvBackprop' | 'exactFilterGrad', on: boolean) => {
    const marker = capabilityMarker(capability, 'webgpu');
    const has = tf.getKernel(marker.kernelName, 'webgpu') !== undefined;
    if (on && !has) tf.registerKernel(marker);
    if (!on && has) tf.unregisterKernel(marker.kernelName, 'webgpu');
  };
  setWebgpuConvKernels(v === 'ours' ? 'gemm' : 'stock');
  setWebgpuFilterGradKernel(v === 'ours' || v === 'splitk' ? 'split-k' : 'stock');
  mark('exactConvBackprop', v === 'ours' || v === 'stock');
  mark('exactFilterGrad', v === 'ours' || v === 'splitk');
  variant = v;
}

/** Small enough to carry (≈ 100 k parameters), large enough for real shapes on a GPU. */
export const PARITY_CONFIG = { inputChannels: 1, numClasses: 2, channels: [8, 16, 32, 48], convsPerBlock: 2, latentDim: 6, num1x1Convs: 3, seed: 11 };
export const PARITY_INPUT = { batch: 2, size: 64, graders: 4, elboSeed: 123, sampleSeed: 7, samples: 16, trainSeed: 1 };
/** The filter gradient at N·H·W = 65,536, where the stock webgpu kernel went wrong on Mesa. */
export const FILTER_GRAD_CASE = { x: [4, 128, 128, 8] as [number, number, number, number], kernel: 3, seeds: [5, 6] as const };
/** The LIDC configuration of `npm run bench` (bench/lidc-config.ts). */
const LIDC_CONFIG = { inputChannels: 1, numClasses: 2, channels: [32, 64, 128, 192], convsPerBlock: 3, latentDim: 6, num1x1Convs: 3, seed: 0 };
const PARITY_TOLERANCE = 1e-3;


interface Reference {
  config: typeof PARITY_CONFIG;
  input: typeof PARITY_INPUT;
  backend: string;
  createdAt: string;
  images: string;
  labels: string;
  weights: Array<{ name: string; shape: number[]; data: string }>;
  reconstruction: number;
  kl: number;
  gradients: Array<{ name: string; data: string }>;
  trainStep: { loss: number; gradNorm: number; weightDecay: number };
  samples: string;
  filterGrad: string;
}

const b64 = (a: Float32Array | Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const f32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const i32 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

export function relativeL2(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = (got[i] ?? NaN) - ref[i]!;
    num += d * d;
    den += ref[i]! * ref[i]!;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The parity inputs, drawn by tfjs-core's seeded random ops (computed in JavaScript on any backend). */
function parityInputs(): { images: tf.Tensor4D; labels: tf.Tensor4D } {
  const { batch, size, graders } = PARITY_INPUT;
  return tf.tidy(() => ({
    images: tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
    labels: tf.cast(tf.greater(tf.randomUniform([batch, graders, size, size], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor4D,
  }));
}

interface ParityRun {
  reconstruction: number;
  kl: number;
  gradients: Float32Array[];
  samples: Int32Array;
  trainStep: { loss: number; gradNorm: number; weightDecay: number };
  filterGrad: Float32Array;
}

async function runParityCase(model: ProbUNet, images: tf.Tensor4D, labels: tf.Tensor4D): Promise<ParityRun> {
  const vars = model.parameters().map((p) => p.variable);
  const first = tf.tidy(() => tf.squeeze(tf.slice(labels, [0, 0, 0, 0], [-1, 1, -1, -1]), [1]) as tf.Tensor3D);
  let kept: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const t = model.elboTerms(images, first, PARITY_INPUT.elboSeed);
    kept = [tf.keep(t.reconstruction), tf.keep(t.kl)];
    return tf.add(t.reconstruction, t.kl) as tf.Scalar;
  }, vars);
  const gradients = await Promise.all(vars.map(async (v) => (await grads[v.name]!.data()) as Float32Array));
  const [reconstruction, kl] = await Promise.all(kept.map(async (t) => (await t.data())[0]!));
  const s = model.sample(images, PARITY_INPUT.samples, { seed: PARITY_INPUT.sampleSeed });
  const samples = (await s.data()) as Int32Array;
  tf.dispose([value, first, s, ...kept, ...Object.values(grads)]);

  const { x, kernel, seeds } = FILTER_GRAD_CASE;
  const [xt, dy] = [tf.randomNormal(x, 0, 1, 'float32', seeds[0]) as tf.Tensor4D, tf.randomNormal(x, 0, 1, 'float32', seeds[1]) as tf.Tensor4D];
  // The Conv2DBackpropFilter kernel the step uses (split-K, or stock in that variant) where the
  // backend declares one, else core's forward-conv formulation.
  const fg = usesFilterGradKernel()
    ? (tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [kernel, kernel, x[3]!, x[3]!] } as unknown as tf.NamedAttrMap) as tf.Tensor4D)
    : conv2dFilterGrad(xt, dy, kernel);
  const filterGrad = (await fg.data()) as Float32Array;
  tf.dispose([xt, dy, fg]);

  // A whole train step last: it changes the weights.
  const trainer = new Trainer(model, { learningRate: 1e-3, seed: PARITY_INPUT.trainSeed });
  const m = await trainer.trainStep({ images, labels });
  trainer.dispose();
  return { reconstruction: reconstruction!, kl: kl!, gradients, samples, filterGrad, trainStep: { loss: m.loss, gradNorm: m.gradNorm, weightDecay: m.weightDecay } };
}

async function reference(outDir: string): Promise<void> {
  const report = await initBackend('cpu', { modules: { '@tensorflow/tfjs-backend-cpu': () => import('@tensorflow/tfjs-backend-cpu') } });
  const model = createProbUNet(PARITY_CONFIG);
  const { images, labels } = parityInputs();
  const weights = await Promise.all(model.parameters().map(async (p) => ({ name: p.name, shape: p.variable.shape, data: b64((await p.variable.data()) as Float32Array) })));
  const r = await runParityCase(model, images, labels);
  const ref: Reference = {
    config: PARITY_CONFIG,
    input: PARITY_INPUT,
    backend: report.selected,
    createdAt: new Date().toISOString(),
    images: b64(Float32Array.from(await images.data())),
    // Int32Array.from: a cast from bool may keep a byte array underneath.
    labels: b64(Int32Array.from(await labels.data())),
    weights,
    reconstruction: r.reconstruction,
    kl: r.kl,
    gradients: model.parameters().map((p, i) => ({ name: p.name, data: b64(r.gradients[i]!) })),
    trainStep: r.trainStep,
    samples: b64(Int32Array.from(r.samples)),
    filterGrad: b64(r.filterGrad),
  };
  tf.dispose([images, labels]);
  model.dispose();
  writeJsonAtomic(join(outDir, 'reference.json'), ref);
  console.log(`reference: ${ref.weights.length} parameters, reconstruction ${ref.reconstruction.toFixed(4)}, kl ${ref.kl.toFixed(4)}`);
}

// ---------------------------------------------------------------------------------------------

interface Step {
  name: string;
  status: 'running' | 'ok' | 'failed' | 'skipped';
  seconds?: number;
  reason?: string;
}

interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  dawnBackend: string;
  software: boolean;
  features: string[];
  limits: Record<string, number>;
}

/** Dawn from PROBUNET_DAWN_NODE (the bundle) or the `webgpu` package; records the adapter it hands out. */
function dawnLoader(captured: { adapter?: AdapterSummary }, extraFlags: string[]): () => Promise<unknown> {
  return async () => {
    type Gpu = { requestAdapter(o?: Record<string, unknown>): Promise<GpuAdapter | null> };
    type GpuAdapter = { info?: Record<string, string>; features: Set<string>; limits: Record<string, number> };
    const path = process.env.PROBUNET_DAWN_NODE;
    const mod = (path ? createRequire(import.meta.url)(path) : await import('webgpu')) as { create(flags: string[]): Gpu; globals: Record<string, unknown> };
    return {
      globals: mod.globals,
      create(flags: string[]) {
        const gpu = mod.create([...flags, ...extraFlags]);
        const dawnBackend = flags.find((f) => f.startsWith('backend='))?.slice(8) ?? 'default';
        const request = gpu.requestAdapter.bind(gpu);
        gpu.requestAdapter = async (o) => {
          const a = await request(o);
          if (a) {
            const info = a.info ?? {};
            const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
            const limits: Record<string, number> = {};
            for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) limits[k] = Number(a.limits[k]);
            captured.adapter = {
              vendor: info.vendor ?? '',
              architecture: info.architecture ?? '',
              device: info.device ?? '',
              description: info.description ?? '',
              dawnBackend,
              software: /llvmpipe|swiftshader|lavapipe|softpipe/i.test(text),
              features: [...a.features].sort(),
              limits,
            };
          }
          return a;
        };
        return gpu;
      },
    };
  };
}

/**
 * tfjs-webgpu's errors from a program's dispatch do not say which kernel failed; add the program's
 * name, dispatch and input shapes (diagnostics for the report only).
 */
function annotateProgramErrors(): void {
  type Program = { constructor: { name: string }; shaderKey?: string; dispatch?: number[]; outputShape?: number[] };
  const backend = tf.backend() as unknown as { runWebGPUProgram?: (p: Program, inputs: Array<{ shape: number[] }>, ...rest: unknown[]) => unknown };
  const original = backend.runWebGPUProgram?.bind(backend);
  if (!original) return;
  backend.runWebGPUProgram = (program, inputs, ...rest) => {
    try {
      return original(program, inputs, ...rest);
    } catch (err) {
      const e = err as Error;
      e.message += ` [program ${program.constructor.name}, output ${JSON.stringify(program.outputShape)}, dispatch ${JSON.stringify(program.dispatch)}, inputs ${inputs.map((i) => JSON.stringify(i.shape)).join(' ')}]`;
      throw e;
    }
  };
}

async function median(fn: () => Promise<unknown>, reps: number): Promise<{ median: number; all: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    all.push(performance.now() - t0);
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, all };
}

function gpuBytes(): number {
  const m = tf.memory() as { numBytesInGPUAllocated?: number; numBytesAllocatedInGPU?: number; numBytesInGPU?: number };
  return m.numBytesAllocatedInGPU ?? m.numBytesInGPUAllocated ?? m.numBytesInGPU ?? 0;
}

async function run(refDir: string, outFile: string, options: { quickSpeed: boolean | null; batches: number[] | null; variants: Variant[] | null; layerBatches: number[] | null }): Promise<number> {
  const report: Record<string, unknown> & { steps: Step[] } = {
    schema: 'probunet-gpu-check-webgpu/1',
    startedAt: new Date().toISOString(),
    host: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, tfjs: tf.version_core },
    steps: [],
  };
  const save = () => writeJsonAtomic(outFile, report);
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const s: Step = { name, status: 'running' };
    report.steps.push(s);
    save();
    const t0 = performance.now();
    console.error(`[gpu-check] ${name}…`);
    try {
      const v = await fn();
      s.status = 'ok';
      return v;
    } catch (err) {
      s.status = 'failed';
      s.reason = (err as Error).stack?.split('\n').slice(0, 4).join(' | ') ?? String(err);
      console.error(`[gpu-check] ${name} failed: ${s.reason}`);
      return undefined;
    } finally {
      s.seconds = (performance.now() - t0) / 1000;
      save();
    }
  };

  const captured: { adapter?: AdapterSummary } = {};
  const modules: ModuleLoaders = {
    webgpu: dawnLoader(captured, (process.env.PROBUNET_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean)),
    '@tensorflow/tfjs-backend-webgpu': () => import('@tensorflow/tfjs-backend-webgpu'),
  };
  const backend = await step('webgpu backend', async () => {
    const r = await initBackend('webgpu', { modules });
    report.backend = { text: formatBackendReport(r), floatPrecision: r.floatPrecision, notes: r.notes };
    report.adapter = captured.adapter ?? null;
    return r;
  });
  report.adapter ??= captured.adapter ?? null;
  if (!backend) {
    report.finishedAt = new Date().toISOString();
    save();
    return 2;
  }
  const software = captured.adapter?.software ?? true;

  annotateProgramErrors();
  // Parity against the cpu reference carried in the bundle.
  const parityCase = (key: 'parity' | 'parityStockBackprop') =>
    step(key === 'parity' ? 'parity' : 'parity, stock kernels', async () => {
      const ref = JSON.parse(readFileSync(join(refDir, 'reference.json'), 'utf8')) as Reference;
      const model = createProbUNet(ref.config);
      const params = model.parameters();
      if (params.length !== ref.weights.length) throw new Error(`the reference has ${ref.weights.length} parameters, the model ${params.length}: rebuild the bundle (pack.sh)`);
      params.forEach((p, i) => {
        const w = ref.weights[i]!;
        if (w.name !== p.name) throw new Error(`parameter ${i} is ${p.name} here, ${w.name} in the reference: rebuild the bundle`);
        tf.tidy(() => p.variable.assign(tf.tensor(f32(w.data), w.shape)));
      });
      const { batch, size, graders } = ref.input;
      const images = tf.tensor4d(f32(ref.images), [batch, size, size, 1]);
      const labels = tf.tensor4d(i32(ref.labels), [batch, graders, size, size], 'int32');
      const before = tf.memory().numTensors;
      const got = await runParityCase(model, images, labels);
      const gradients = params.map((p, i) => ({ name: p.name, relativeL2: relativeL2(got.gradients[i]!, f32(ref.gradients[i]!.data)) }));
      const worst = gradients.reduce((a, g) => (g.relativeL2 > a.relativeL2 || Number.isNaN(g.relativeL2) ? g : a));
      const refSamples = i32(ref.samples);
      const agree = got.samples.filter((v, i) => v === refSamples[i]).length / refSamples.length;
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
      const checks = {
        reconstruction: { webgpu: got.reconstruction, cpu: ref.reconstruction, relativeError: rel(got.reconstruction, ref.reconstruction) },
        kl: { webgpu: got.kl, cpu: ref.kl, relativeError: rel(got.kl, ref.kl) },
        trainStep: Object.fromEntries(
          (['loss', 'gradNorm', 'weightDecay'] as const).map((k) => [k, { webgpu: got.trainStep[k], cpu: ref.trainStep[k], relativeError: rel(got.trainStep[k], ref.trainStep[k]) }]),
        ),
        filterGradientLarge: { shape: FILTER_GRAD_CASE.x, relativeL2: relativeL2(got.filterGrad, f32(ref.filterGrad)) },
      };
      const pass =
        checks.reconstruction.relativeError < PARITY_TOLERANCE &&
        checks.kl.relativeError < PARITY_TOLERANCE * Math.max(1, 1 / Math.max(ref.kl, 1e-9)) &&
        gradients.every((g) => g.relativeL2 < PARITY_TOLERANCE) &&
        Object.values(checks.trainStep).every((c) => c.relativeError < PARITY_TOLERANCE) &&
        checks.filterGradientLarge.relativeL2 < PARITY_TOLERANCE &&
        agree > 0.99;
      tf.dispose([images, labels]);
      model.dispose();
      report[key] = {
        pass,
        tolerance: PARITY_TOLERANCE,
        case: { config: ref.config, ...ref.input, referenceBackend: ref.backend, referenceCreatedAt: ref.createdAt },
        ...checks,
        gradients: { count: gradients.length, worst, all: gradients },
        samples: { count: ref.input.samples, agreement: agree },
        tensorGrowth: tf.memory().numTensors - before,
      };
      if (!pass) {
        const failed = [
          ...(['reconstruction', 'kl'] as const).filter((k) => !(checks[k].relativeError < PARITY_TOLERANCE)).map((k) => `${k} ${checks[k].relativeError.toExponential(2)}`),
          ...Object.entries(checks.trainStep).filter(([, c]) => !(c.relativeError < PARITY_TOLERANCE)).map(([k, c]) => `train step ${k} ${c.relativeError.toExponential(2)}`),
          ...(checks.filterGradientLarge.relativeL2 < PARITY_TOLERANCE ? [] : [`filter gradient at N·H·W = 65,536 ${checks.filterGradientLarge.relativeL2.toExponential(2)}`]),
          ...(worst.relativeL2 < PARITY_TOLERANCE ? [] : [`gradient ${worst.name} ${worst.relativeL2.toExponential(2)}`]),
          ...(agree > 0.99 ? [] : [`samples agree ${(agree * 100).toFixed(2)} %`]),
        ];
        throw new Error(`parity failed (relative error ≥ ${PARITY_TOLERANCE}): ${failed.join('; ')}`);
      }
    });
  await parityCase('parity');

  // Speed of the LIDC configuration. A software adapter gets a small image so the run stays short.
  const quick = options.quickSpeed ?? software;
  const size = quick ? 32 : 128;
  const batches = options.batches ?? (quick ? [2] : [8, 32, 64]);
  const reps = quick ? 2 : 5;
  const speed: Record<string, unknown> = { config: LIDC_CONFIG, size, reduced: quick, train: [] as unknown[], note: quick ? 'software adapter: 32×32 images, 2 timed steps; for a smoke check, not a speed claim' : 'LIDC configuration, 128×128; median of 5 timed steps after 2 warm-ups' };
  report.speed = speed;
  let peakGpuBytes = 0;
  const model = createProbUNet(LIDC_CONFIG);
  const variants = options.variants ?? (software ? ['ours'] : ['ours', 'stock', 'splitk']);
  const label = () => VARIANT_LABELS[variant];
  const rows = () => speed.train as unknown[];
  const trainCase = (batch: number) =>
    step(`train step, batch ${batch}, ${label()}`, async () => {
      const trainer = new Trainer(model, { learningRate: 1e-4, validate: false, seed: 0 });
      const images = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const labels = tf.cast(tf.greater(tf.randomUniform([batch, 4, size, size], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor4D;
      try {
        const t0 = performance.now();
        await trainer.trainStep({ images, labels });
        const firstStepMs = performance.now() - t0;
        await trainer.trainStep({ images, labels });
        const tensors = tf.memory().numTensors;
        const t = await median(async () => {
          await trainer.trainStep({ images, labels });
          peakGpuBytes = Math.max(peakGpuBytes, gpuBytes());
        }, reps);
        rows().push({ batch, variant: label(), kernels: variant, msPerStep: t.median, msPerImage: t.median / batch, stepsMs: t.all, firstStepMs, tensorGrowthPerStep: (tf.memory().numTensors - tensors) / reps });
        speed.peakGpuBytesTfjs = peakGpuBytes;
        console.error(`[gpu-check]   batch ${batch}: ${t.median.toFixed(1)} ms/step, ${(t.median / batch).toFixed(2)} ms/image`);
      } finally {
        tf.dispose([images, labels]);
        trainer.dispose();
      }
    });
  const samplingCase = () =>
    step('sampling, 1 vs 16 samples', async () => {
      const images = tf.randomUniform([8, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const one = async (n: number) => {
        const s = model.sample(images, n, { seed: 1 });
        await s.data();
        s.dispose();
      };
      await one(1);
      await one(16);
      const a = await median(() => one(1), reps);
      const b = await median(() => one(16), reps);
      speed.sampling = { batch: 8, msOneSample: a.median, msSixteenSamples: b.median, ratioSixteenToOne: b.median / a.median };
      images.dispose();
    });
  const profileCase = () =>
    step(`kernel profile, one train step, ${label()}`, async () => {
      const batch = batches.includes(32) ? 32 : batches[0]!; // the profile's batch
      const trainer = new Trainer(model, { learningRate: 1e-4, validate: false, seed: 0 });
      const images = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const labels = tf.cast(tf.greater(tf.randomUniform([batch, 4, size, size], 0, 1, 'float32', 2), 0.5), 'int32') as tf.Tensor4D;
      await trainer.trainStep({ images, labels });
      const info = await tf.profile(async () => {
        await trainer.trainStep({ images, labels });
      });
      const byKernel = new Map<string, { ms: number; calls: number }>();
      for (const k of info.kernels) {
        const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        e.calls++;
        byKernel.set(k.name, e);
      }
      // The same, per kernel and input shapes: names which convolutions cost what.
      const byShape = new Map<string, { ms: number; calls: number }>();
      for (const k of info.kernels) {
        const key = `${k.name} ${k.inputShapes.map((s) => JSON.stringify(s)).join(' ')}`;
        const e = byShape.get(key) ?? { ms: 0, calls: 0 };
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        e.calls++;
        byShape.set(key, e);
      }
      const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
      const profiles = (speed.profiles ??= {}) as Record<string, unknown>;
      profiles[variant] = {
        batch,
        timestampQuery: total > 0,
        kernelMsTotal: total,
        kernels: [...byKernel].sort((a, b) => b[1].ms - a[1].ms || b[1].calls - a[1].calls).slice(0, 15).map(([kernel, e]) => ({ kernel, ms: e.ms, calls: e.calls, share: total > 0 ? e.ms / total : null })),
        byShape: [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20).map(([kernel, e]) => ({ kernel, ms: e.ms, calls: e.calls, share: total > 0 ? e.ms / total : null })),
      };
      tf.dispose([images, labels]);
      trainer.dispose();
    });
  // Per layer, our kernels against the stock ones in the same process (bench/webgpu-layer-times.ts).
  const layerBatches = options.layerBatches ?? (quick ? [batches[0]!] : [32]);
  const layersCase = (batch: number) =>
    step(`per-layer kernels, batch ${batch}`, async () => {
      const t = await webgpuLayerTimes({ batch, size, reps: quick ? 1 : 5, log: (l) => console.error(`[gpu-check]   ${l}`) });
      ((speed.layers ??= []) as unknown[]).push(t);
      setVariant(variant);
    });
  // Cheapest first, so a run stopped at its time limit still has the common figures.
  const [first, ...rest] = batches;
  const largest = rest.length > 1 ? rest.pop() : undefined;
  setVariant(variants[0] ?? 'ours');
  if (first !== undefined) await trainCase(first);
  await samplingCase();
  for (const batch of rest) await trainCase(batch);
  await profileCase();
  for (const batch of layerBatches) await layersCase(batch);
  // Our kernels at the largest batch before the comparison variants (the stock ones are slow: a
  // run stopped at its time limit keeps the figures the targets are about).
  if (largest !== undefined) await trainCase(largest);
  for (const v of variants.slice(1)) {
    setVariant(v);
    if (v === 'stock') await parityCase('parityStockBackprop');
    for (const batch of batches) await trainCase(batch);
    await profileCase();
  }
  setVariant(variants[0] ?? 'ours');
  model.dispose();
  report.finishedAt = new Date().toISOString();
  save();
  return report.steps.every((s) => s.status === 'ok') ? 0 : 1;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' }, ref: { type: 'string' }, quick: { type: 'boolean' }, full: { type: 'boolean' }, batches: { type: 'string' }, variants: { type: 'string' }, 'layer-batches': { type: 'string' } },
});
tf.env().set('PROD', true);
if (positionals[0] === 'reference' && values.out) {
  await reference(values.out);
} else if (positionals[0] === 'run' && values.out && values.ref) {
  const quickSpeed = values.quick ? true : values.full ? false : null;
  const batches = values.batches ? values.batches.split(',').map(Number) : null;
  const variants = values.variants ? values.variants.split(',') : null;
  const unknown = variants?.filter((v) => !(v in VARIANT_LABELS));
  if (unknown?.length) throw new Error(`unknown --variants ${unknown.join(', ')}: choose from ${Object.keys(VARIANT_LABELS).join(', ')}`);
  const layerBatches = values['layer-batches'] ? values['layer-batches'].split(',').map(Number) : null;
  process.exitCode = await run(values.ref, values.out, { quickSpeed, batches, variants: variants as Variant[] | null, layerBatches });
} else {
  console.error('usage: check reference --out DIR | check run --ref DIR --out FILE [--quick|--full] [--batches 8,32,64] [--variants ours,stock,splitk,forward] [--layer-batches 32]');
  process.exitCode = 64;
}
