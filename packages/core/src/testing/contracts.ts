import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { Encoder, FusionHead, LatentNet, SegmentationSampler } from '../spec/components.js';
import { createRegistry, type ProbUNetPlugin } from '../registry.js';
import { expectNoLeakedTensors } from './assertions.js';

export interface ContractOptions {
  /** Image height and width for the checks; must be a multiple of the down-sampling factor. Default 16. */
  size?: number;
  batch?: number;
  /** Plugins whose registry rebuilds the component from getConfig(); default the core plugin only. */
  plugins?: ProbUNetPlugin[];
}

function randomImages(b: number, s: number, c: number): tf.Tensor4D {
  return tf.randomUniform([b, s, s, c], -1, 1, 'float32', 7) as tf.Tensor4D;
}

/** Disposes everything `make` allocated and checks the count returns to the baseline. */
function itDisposesToBaseline(make: () => { dispose(): void; parameters?(): unknown[] }): void {
  it('dispose() frees every tensor it allocated', () => {
    const before = tf.memory().numTensors;
    const c = make();
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    c.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
}

/**
 * The contract every Encoder meets: kind, feature shape at the input resolution, config round-trip
 * through the registry, gradients for every parameter, no leak, dispose to baseline.
 */
export function describeEncoderContract(name: string, make: () => Encoder, options: ContractOptions = {}): void {
  const { size = 16, batch = 2 } = options;
  describe(`Encoder contract: ${name}`, () => {
    it('maps [B,H,W,inputChannels] to [B,H,W,featureChannels]', () => {
      const enc = make();
      try {
        expect(enc.kind).toBe('encoder');
        expect(size % enc.downsamplingFactor).toBe(0);
        const x = randomImages(batch, size, enc.inputChannels);
        const y = enc.apply(x);
        expect(y.shape).toEqual([batch, size, size, enc.featureChannels]);
        expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
        tf.dispose([x, y]);
      } finally {
        enc.dispose();
      }
    });
    it('rebuilds from getConfig() through the registry with identical shapes', () => {
      const enc = make();
      const registry = createRegistry(options.plugins);
      const copy = registry.createEncoder(JSON.parse(JSON.stringify(enc.getConfig())));
      try {
        expect(copy.getConfig()).toEqual(enc.getConfig());
        expect(copy.parameters().map((p) => [p.name, p.variable.shape])).toEqual(enc.parameters().map((p) => [p.name, p.variable.shape]));
      } finally {
        enc.dispose();
        copy.dispose();
      }
    });
    it('gives a finite gradient to every parameter', () => {
      const enc = make();
      const x = randomImages(batch, size, enc.inputChannels);
      try {
        const { grads, value } = tf.variableGrads(() => tf.mean(tf.square(enc.apply(x))) as tf.Scalar, enc.parameters().map((p) => p.variable));
        expect(Object.keys(grads).length).toBe(enc.parameters().length);
        for (const g of Object.values(grads)) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        x.dispose();
        enc.dispose();
      }
    });
    it('leaks no tensor across repeated calls', async () => {
      const enc = make();
      const x = randomImages(batch, size, enc.inputChannels);
      await expectNoLeakedTensors(() => enc.apply(x).dispose(), { what: `${name}.apply` });
      x.dispose();
      enc.dispose();
    });
    itDisposesToBaseline(make);
  });
}

/** The contract every LatentNet meets (prior or posterior). */
export function describeLatentNetContract(name: string, make: () => LatentNet, options: ContractOptions = {}): void {
  const { size = 16, batch = 2 } = options;
  describe(`LatentNet contract: ${name}`, () => {
    const inputs = (net: LatentNet): [tf.Tensor4D, tf.Tensor4D | undefined] => [
      randomImages(batch, size, net.imageChannels),
      net.conditionChannels > 0 ? (tf.sub(tf.randomUniform([batch, size, size, net.conditionChannels], 0, 1, 'float32', 3), 0.5) as tf.Tensor4D) : undefined,
    ];
    it('maps its inputs to a finite [B,latentDim] mean and log σ', () => {
      const net = make();
      const [x, c] = inputs(net);
      const g = net.apply(x, c);
      expect(net.kind).toBe('latent-net');
      expect(g.mean.shape).toEqual([batch, net.latentDim]);
      expect(g.logSigma.shape).toEqual([batch, net.latentDim]);
      expect([...g.mean.dataSync(), ...g.logSigma.dataSync()].every(Number.isFinite)).toBe(true);
      tf.dispose([x, c ?? [], g.mean, g.logSigma]);
      net.dispose();
    });
    it('rebuilds from getConfig() through the registry', () => {
      const net = make();
      const copy = createRegistry(options.plugins).createLatentNet(JSON.parse(JSON.stringify(net.getConfig())));
      expect(copy.getConfig()).toEqual(net.getConfig());
      net.dispose();
      copy.dispose();
    });
    it('leaks no tensor across repeated calls', async () => {
      const net = make();
      const [x, c] = inputs(net);
      await expectNoLeakedTensors(() => {
        const g = net.apply(x, c);
        tf.dispose([g.mean, g.logSigma]);
      }, { what: `${name}.apply` });
      tf.dispose([x, c ?? []]);
      net.dispose();
    });
    itDisposesToBaseline(make);
  });
}

/** The contract every FusionHead meets; `prepare`, when present, must agree with `apply`. */
export function describeFusionHeadContract(name: string, make: () => FusionHead, options: ContractOptions = {}): void {
  const { size = 8, batch = 2 } = options;
  describe(`FusionHead contract: ${name}`, () => {
    it('maps features and z to [B,H,W,numClasses] logits; prepare() agrees with apply()', () => {
      const head = make();
      const f = randomImages(batch, size, head.featureChannels);
      const z = tf.randomNormal([batch, head.latentDim], 0, 1, 'float32', 5) as tf.Tensor2D;
      const y = head.apply(f, z);
      expect(head.kind).toBe('fusion-head');
      expect(y.shape).toEqual([batch, size, size, head.numClasses]);
      if (head.prepare) {
        const prepared = head.prepare(f);
        const y2 = prepared.apply(z);
        const diff = tf.max(tf.abs(tf.sub(y, y2))).dataSync()[0]!;
        expect(diff).toBeLessThan(1e-4);
        y2.dispose();
        prepared.dispose();
      }
      tf.dispose([f, z, y]);
      head.dispose();
    });
    it('rebuilds from getConfig() through the registry', () => {
      const head = make();
      const copy = createRegistry(options.plugins).createFusionHead(JSON.parse(JSON.stringify(head.getConfig())));
      expect(copy.getConfig()).toEqual(head.getConfig());
      head.dispose();
      copy.dispose();
    });
    it('leaks no tensor across repeated calls', async () => {
      const head = make();
      const f = randomImages(batch, size, head.featureChannels);
      const z = tf.randomNormal([batch, head.latentDim], 0, 1, 'float32', 5) as tf.Tensor2D;
      await expectNoLeakedTensors(() => head.apply(f, z).dispose(), { what: `${name}.apply` });
      tf.dispose([f, z]);
      head.dispose();
    });
    itDisposesToBaseline(make);
  });
}

/**
 * The contract every SegmentationSampler meets (the Prob. U-Net and every baseline): [B,n,H,W]
 * int32 labels in range, the same seed gives the same samples, no leak.
 */
export function describeSamplerContract(
  name: string,
  make: () => SegmentationSampler,
  options: { size?: number; batch?: number; channels: number; n?: number },
): void {
  const { size = 16, batch = 2, channels, n = 3 } = options;
  describe(`SegmentationSampler contract: ${name}`, () => {
    it('returns int32 [B,n,H,W] labels in 0..numClasses−1, reproducible by seed', () => {
      const sampler = make();
      const x = randomImages(batch, size, channels);
      const a = sampler.sample(x, n, { seed: 11 });
      const b = sampler.sample(x, n, { seed: 11 });
      expect(a.shape).toEqual([batch, n, size, size]);
      expect(a.dtype).toBe('int32');
      const values = a.dataSync();
      expect(values.every((v) => v >= 0 && v < sampler.numClasses)).toBe(true);
      expect(Array.from(b.dataSync())).toEqual(Array.from(values));
      tf.dispose([x, a, b]);
      sampler.dispose();
    });
    it('leaks no tensor across repeated sampling', async () => {
      const sampler = make();
      const x = randomImages(batch, size, channels);
      await expectNoLeakedTensors(() => sampler.sample(x, n, { seed: 1 }).dispose(), { what: `${name}.sample` });
      x.dispose();
      sampler.dispose();
    });
    it('dispose() frees every tensor it allocated', () => {
      const before = tf.memory().numTensors;
      const sampler = make();
      sampler.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
