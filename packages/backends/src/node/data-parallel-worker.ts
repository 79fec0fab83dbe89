// A data-parallel worker: its own TensorFlow.js engine and backend, its own copy of the model.
// Each step it loads the shared weights, computes the gradient of its shard and sends it back.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { ModelGradients, corePlugin, createRegistry, type CheckpointableModel, type ProbUNetPlugin } from '@probunet/core';
import { initBackend } from '../init-backend.js';
import type { FromWorker, ToWorker } from './protocol.js';

const port = parentPort!;
let model: CheckpointableModel | undefined;
let gradients: ModelGradients | undefined;
let names: string[] = [];

const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', async (m: ToWorker) => {
  try {
    if (m.type === 'init') {
      tf.env().set('PROD', true);
      // The same initBackend as the main thread; native and wasm-native share the cores out among the workers.
      const report = await initBackend(m.backend, m.backend === 'wasm-native' || m.backend === 'native' ? { threads: m.nativeThreads } : {});
      const plugins = await Promise.all(m.plugins.map(async (p) => (await import(p.module))[p.export] as ProbUNetPlugin));
      try {
        model = createRegistry([corePlugin, ...plugins]).createModel(m.config);
      } catch (err) {
        throw new Error(
          `cannot rebuild the model: ${(err as Error).message}. Pass the plugin that builds it to createWorkerGradients, e.g. { plugins: [{ module: '@probunet/baselines', export: 'baselinesPlugin' }] }`,
        );
      }
      gradients = new ModelGradients(model, m.weightDecay);
      names = m.names;
      const have = model.parameters().map((p) => p.name);
      if (have.join('\n') !== names.join('\n')) throw new Error('the worker built a model whose parameters differ from the trainer\u2019s');
      send({ type: 'ready', backend: report.selected });
      return;
    }
    if (!model || !gradients) throw new Error('step before init');
    const all = new Float32Array(m.weights);
    let at = 0;
    for (const p of model.parameters()) {
      const size = p.variable.size;
      tf.tidy(() => p.variable.assign(tf.tensor(all.subarray(at, at + size), p.variable.shape, 'float32')));
      at += size;
    }
    const images = tf.tensor4d(m.images.data, m.images.shape);
    const labels = tf.tensor<tf.Rank>(m.labels.data, m.labels.shape, 'int32') as tf.Tensor3D | tf.Tensor4D;
    const g = await gradients.computeGradients(images, labels, m.seed);
    const flat = new Float32Array(at);
    let off = 0;
    for (const name of names) {
      const t = g.grads.get(name)!;
      flat.set(await t.data(), off);
      off += t.size;
    }
    tf.dispose([images, labels, ...g.grads.values()]);
    send({ type: 'grads', grads: flat, loss: g.loss, terms: g.terms, halfSquaredNorm: g.halfSquaredNorm }, [flat.buffer as ArrayBuffer]);
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
  }
});
