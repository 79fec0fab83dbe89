import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { DisposedError, Trainer, type GradientResult, type GradientSource, type ProbUNet, type TrainerOptions } from '@probunet/core';
import type { BackendName } from '../providers.js';
import { shardSeed, type FromWorker, type ToWorker } from './protocol.js';

export interface DataParallelOptions extends TrainerOptions {
  /** Worker threads, each with its own backend instance. Default: the machine's available parallelism. */
  workers?: number;
  /** The workers' backend. Default 'wasm' (single-threaded in Node, so one per core scales). */
  backend?: BackendName;
  /**
   * Threads each worker's native kernels use on the native and wasm-native backends. Default: the cores
   * divided among the workers (at least 1), so that workers × threads does not oversubscribe.
   */
  nativeThreads?: number;
}

interface Handle {
  worker: Worker;
  pending?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
}

/**
 * A Trainer whose gradients are computed by worker threads, each on a shard of the batch (data
 * parallelism). The shard gradients are averaged weighted by shard size, which equals the
 * full-batch gradient of a loss that is a mean over the batch; Adam, the schedule, the finite-loss
 * and finite-update checks (a rejected step changes nothing) and checkpoints are the Trainer's own. Each shard draws its posterior noise from its own
 * seed (`shardSeed`). Workers run the built `@probunet/core` and build the model from
 * `model.getConfig()` with the core components (custom components need their plugin in a worker:
 * not supported yet). Call `close()` to stop the workers.
 */
export class DataParallelTrainer extends Trainer<ProbUNet> {
  private readonly workers: WorkerGradients;

  private constructor(model: ProbUNet, options: DataParallelOptions, workers: WorkerGradients) {
    super(model, { ...options, gradientSource: workers });
    this.workers = workers;
  }

  /** Starts the workers and waits until each has built its model. */
  static async create(model: ProbUNet, options: DataParallelOptions = {}): Promise<DataParallelTrainer> {
    const n = options.workers ?? availableParallelism();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be a positive integer, got ${n}`);
    const handles = Array.from({ length: n }, () => ({ worker: spawnWorker() }) as Handle);
    const workers = new WorkerGradients(model, handles);
    const trainer = new DataParallelTrainer(model, options, workers);
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
          workers.ask(h, {
            type: 'init',
            config: model.getConfig(),
            backend: options.backend ?? 'wasm',
            nativeThreads: options.nativeThreads ?? Math.max(1, Math.floor(availableParallelism() / n)),
            weightDecay: trainer.weightDecay,
            names: workers.names,
          }),
        ),
      );
    } catch (err) {
      await trainer.close();
      throw err;
    }
    return trainer;
  }

  get workerCount(): number {
    return this.workers.handles.length;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.workers.close();
  }

  override dispose(): void {
    void this.close();
    super.dispose();
  }
}

/**
 * The workers as a GradientSource: each step the current weights go to every worker once (one
 * shared buffer), the batch is read back from the device once and cut into shards, and the shard
 * gradients come back averaged by shard size.
 */
class WorkerGradients implements GradientSource {
  readonly names: string[];
  private readonly total: number;
  private closed = false;

  constructor(
    private readonly model: ProbUNet,
    readonly handles: Handle[],
  ) {
    this.names = model.parameters().map((p) => p.name);
    this.total = model.parameters().reduce((a, p) => a + p.variable.size, 0);
  }

  async computeGradients(images: tf.Tensor4D, labels: tf.Tensor3D | tf.Tensor4D, seed: number): Promise<GradientResult> {
    if (labels.rank !== 3) throw new Error('DataParallelTrainer trains models that take one annotation per image (the Prob. U-Net)');
    if (this.closed) throw new DisposedError('this DataParallelTrainer has been closed: its workers are stopped');
    const weights = new SharedArrayBuffer(this.total * 4);
    const flat = new Float32Array(weights);
    let at = 0;
    for (const p of this.model.parameters()) {
      flat.set(await p.variable.data(), at);
      at += p.variable.size;
    }
    const [b, h, w, c] = images.shape;
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
          labels: { data: labelData.slice(r0 * h * w, r1 * h * w), shape: [r1 - r0, h, w] },
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
