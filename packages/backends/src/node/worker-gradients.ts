import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DisposedError, type CheckpointableModel, type GradientResult, type GradientSource } from '@probunet/core';
import type { BackendName } from '../providers.js';
import { shardSeed, type FromWorker, type PluginModule, type ToWorker } from './protocol.js';

export interface WorkerGradientsOptions {
  /** Worker threads, each with its own backend instance. Default: the machine's available parallelism. */
  workers?: number;
  /** The workers' backend. Default 'wasm' (single-threaded in Node, so one per core scales). */
  backend?: BackendName;
  /**
   * Threads each worker's native kernels use on the native and wasm-native backends. Default: the cores
   * divided among the workers (at least 1), so that workers × threads does not oversubscribe.
   */
  nativeThreads?: number;
  /** λ of λ·Σ½‖w‖²; must equal the Trainer's `weightDecay` (it checks). Default 1e-5, the Trainer's default. */
  weightDecay?: number;
  /**
   * The registry plugins the workers import to rebuild a model that is not the core's `prob-unet`,
   * e.g. `[{ module: '@probunet/baselines', export: 'baselinesPlugin' }]` for the five baselines.
   */
  plugins?: readonly PluginModule[];
}

/** Gradients computed by worker threads; `close()` stops them. */
export interface WorkerGradients extends GradientSource {
  readonly weightDecay: number;
  readonly workerCount: number;
  /** Stops the workers; a later step throws DisposedError. */
  close(): Promise<void>;
}

interface Handle {
  worker: Worker;
  pending?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
}

/**
 * Data-parallel training as a GradientSource: `new Trainer(model, { gradientSource: await
 * createWorkerGradients(model, { workers: 2 }) })`. Each worker rebuilds the model from
 * `model.getConfig()` through a registry of the core plugin plus `options.plugins`, so any model
 * type whose plugin it can import trains this way. Each step the current weights go to every worker
 * once (one shared buffer), the batch is cut into shards along its first axis, and the shard
 * gradients come back averaged weighted by shard size — the full-batch gradient of a loss that is a
 * mean over the batch, as every probunet model's is. Each shard draws its noise from its own seed
 * (`shardSeed`). Adam, the schedule and the finite checks stay the Trainer's. The caller closes it.
 */
export async function createWorkerGradients(model: CheckpointableModel, options: WorkerGradientsOptions = {}): Promise<WorkerGradients> {
  const n = options.workers ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be a positive integer, got ${n}`);
  const weightDecay = options.weightDecay ?? 1e-5;
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new ConfigError(`weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
  const handles = Array.from({ length: n }, () => ({ worker: spawnWorker() }) as Handle);
  const source = new WorkerPool(model, handles, weightDecay);
  for (const h of handles) {
    h.worker.on('message', (m: FromWorker) => {
      const p = h.pending;
      h.pending = undefined;
      if (!p) return;
      if (m.type === 'error') p.reject(new Error(`data-parallel worker: ${m.message}`));
      else p.resolve(m);
    });
    h.worker.on('error', (err) => {
      h.pending?.reject(err);
      h.pending = undefined;
    });
  }
  try {
    await Promise.all(
      handles.map((h) =>
        source.ask(h, {
          type: 'init',
          config: model.getConfig(),
          plugins: [...(options.plugins ?? [])],
          backend: options.backend ?? 'wasm',
          nativeThreads: options.nativeThreads ?? Math.max(1, Math.floor(availableParallelism() / n)),
          weightDecay,
          names: source.names,
        }),
      ),
    );
  } catch (err) {
    await source.close();
    throw err;
  }
  return source;
}

class WorkerPool implements WorkerGradients {
  readonly names: string[];
  private readonly total: number;
  private closed = false;

  constructor(
    private readonly model: CheckpointableModel,
    private readonly handles: Handle[],
    readonly weightDecay: number,
  ) {
    this.names = model.parameters().map((p) => p.name);
    this.total = model.parameters().reduce((a, p) => a + p.variable.size, 0);
  }

  get workerCount(): number {
    return this.handles.length;
  }

  async computeGradients(images: tf.Tensor4D, labels: tf.Tensor3D | tf.Tensor4D, seed: number): Promise<GradientResult> {
    if (this.closed) throw new DisposedError('these worker gradients have been closed: their workers are stopped');
    const weights = new SharedArrayBuffer(this.total * 4);
    const flat = new Float32Array(weights);
    let at = 0;
    for (const p of this.model.parameters()) {
      flat.set(await p.variable.data(), at);
      at += p.variable.size;
    }
    const [b, h, w, c] = images.shape;
    const labelRest = labels.shape.slice(1); // [H,W] or [A,H,W]
    const perLabel = labelRest.reduce((x, y) => x * y, 1);
    const used = Math.min(b, this.handles.length);
    const [imageData, labelData] = (await Promise.all([images.data(), labels.data()])) as [Float32Array, Int32Array];
    const bounds = Array.from({ length: used + 1 }, (_, i) => Math.round((i * b) / used));
    const replies = await Promise.all(
      this.handles.slice(0, used).map((handle, i) => {
        const [r0, r1] = [bounds[i]!, bounds[i + 1]!];
        return this.ask(handle, {
          type: 'step',
          weights,
          images: { data: imageData.slice(r0 * h * w * c, r1 * h * w * c), shape: [r1 - r0, h, w, c] },
          labels: { data: labelData.slice(r0 * perLabel, r1 * perLabel), shape: [r1 - r0, ...labelRest] },
          seed: shardSeed(seed, i),
        });
      }),
    );
    const sum = new Float32Array(this.total);
    let loss = 0;
    let halfSquaredNorm = 0;
    const terms: Record<string, number> = {};
    replies.forEach((r, i) => {
      if (r.type !== 'grads') throw new Error('data-parallel worker answered out of turn');
      const share = (bounds[i + 1]! - bounds[i]!) / b;
      for (let k = 0; k < sum.length; k++) sum[k]! += share * r.grads[k]!;
      loss += share * r.loss;
      halfSquaredNorm = r.halfSquaredNorm;
      for (const [name, v] of Object.entries(r.terms)) terms[name] = (terms[name] ?? 0) + share * v;
    });
    const grads = new Map<string, tf.Tensor>();
    let off = 0;
    for (const p of this.model.parameters()) {
      grads.set(p.name, tf.tensor(sum.subarray(off, off + p.variable.size), p.variable.shape, 'float32'));
      off += p.variable.size;
    }
    return { grads, loss, terms, halfSquaredNorm };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }

  ask(h: Handle, m: ToWorker): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      h.pending = { resolve, reject };
      h.worker.postMessage(m);
    });
  }
}

/** The built worker next to this file, or (running from TypeScript sources) a tsx bootstrap. */
function spawnWorker(): Worker {
  const js = new URL('./data-parallel-worker.js', import.meta.url);
  // A clean execArgv: a parent's --conditions (e.g. a test runner's source condition) would make the
  // worker load @probunet/core from TypeScript sources, which Node cannot run.
  if (existsSync(fileURLToPath(js))) return new Worker(js, { execArgv: [] });
  return new Worker(new URL('./data-parallel-worker.dev.mjs', import.meta.url), { execArgv: [] });
}
