import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../errors.js';

export interface InputSpec {
  channels: number;
  numClasses: number;
  ignoreLabel: number;
  downsamplingFactor: number;
}

/**
 * Whether the active backend can read tensor values synchronously. webgpu cannot be trusted to:
 * in Node it has no OffscreenCanvas to read through, and in Chromium 156 on SwiftShader the
 * OffscreenCanvas read returned wrong values (a finite image's `all(isFinite)` read as false;
 * apps/web's browser test). On webgpu the synchronous methods check shapes and dtypes only, and
 * the asynchronous ones (trainStep, scoreAnnotation) check values too.
 */
export function canReadSync(): boolean {
  return tf.getBackend() !== 'webgpu';
}

/** images must be float32 [B,H,W,C] with finite values and H, W multiples of the down-sampling factor. */
export function validateImages(images: tf.Tensor, spec: InputSpec, what = 'images'): asserts images is tf.Tensor4D {
  checkImageShape(images, spec, what);
  if (canReadSync()) checkFinite(allFinite(images.dataSync()), what);
}

/** `validateImages` with the value check read asynchronously (every backend). */
export async function validateImagesAsync(images: tf.Tensor, spec: InputSpec, what = 'images'): Promise<void> {
  checkImageShape(images, spec, what);
  // Backends whose values are in main memory: one loop over them (isFinite and all as kernels take
  // 54 ms on cpu-storage backends for a batch of 32 LIDC crops; this takes about 1).
  if (canReadSync()) return checkFinite(allFinite(await images.data()), what);
  const t = tf.tidy(() => tf.all(tf.isFinite(images)));
  try {
    checkFinite((await t.data())[0]!, what);
  } finally {
    t.dispose();
  }
}

/** 1 when every value is finite, else 0 (x − x is NaN exactly for NaN and ±Infinity). */
function allFinite(values: tf.backend_util.BackendValues): number {
  const v = values as tf.TypedArray;
  for (let i = 0; i < v.length; i++) if (v[i]! - v[i]! !== 0) return 0;
  return 1;
}

function checkFinite(finite: number, what: string): void {
  if (!finite) throw new InputError(`${what} contain NaN or Inf values`);
}

function checkImageShape(images: tf.Tensor, spec: InputSpec, what: string): asserts images is tf.Tensor4D {
  if (!(images instanceof tf.Tensor)) throw new InputError(`${what} must be a tf.Tensor, got ${typeof images}`);
  if (images.rank !== 4) {
    throw new InputError(`${what} must have rank 4 [batch, height, width, channels] (NHWC), got shape [${images.shape.join(', ')}]`);
  }
  if (images.dtype !== 'float32') throw new InputError(`${what} must be float32, got ${images.dtype}: cast with tf.cast(x, 'float32')`);
  const [b, h, w, c] = images.shape as [number, number, number, number];
  if (b === 0) throw new InputError(`${what} has an empty batch`);
  if (c !== spec.channels) throw new InputError(`${what} have ${c} channels but the model was built for ${spec.channels}`);
  const f = spec.downsamplingFactor;
  if (h % f !== 0 || w % f !== 0) {
    const ph = Math.ceil(h / f) * f;
    const pw = Math.ceil(w / f) * f;
    throw new InputError(
      `${what} height × width ${h}×${w} is not divisible by the encoder's down-sampling factor ${f}: crop or pad to e.g. ${ph}×${pw}`,
    );
  }
}

/** labels must be int32 [B,H,W] matching the images, each value in [0, numClasses) or the ignore label. */
export function validateLabels(labels: tf.Tensor, images: tf.Tensor4D, spec: InputSpec, what = 'labels'): asserts labels is tf.Tensor3D {
  checkLabelShape(labels, images, what);
  if (canReadSync()) checkLabelValues(labels.dataSync(), spec, what);
}

/** `validateLabels` with the value check read asynchronously (every backend). */
export async function validateLabelsAsync(labels: tf.Tensor, images: tf.Tensor4D, spec: InputSpec, what = 'labels'): Promise<void> {
  checkLabelShape(labels, images, what);
  checkLabelValues(await labels.data(), spec, what);
}

/**
 * Training labels: int32 [B,H,W] (one annotation per image) or [B,A,H,W] (A graders), every
 * grader's values checked, not only the one a step picks.
 */
export async function validateAnnotationsAsync(labels: tf.Tensor, images: tf.Tensor4D, spec: InputSpec, what = 'labels'): Promise<void> {
  if (!(labels instanceof tf.Tensor)) throw new InputError(`${what} must be a tf.Tensor, got ${typeof labels}`);
  if (labels.rank !== 4) return validateLabelsAsync(labels, images, spec, what);
  if (labels.dtype !== 'int32') throw new InputError(`${what} must be int32 class indices, got ${labels.dtype}`);
  const [b, a, h, w] = labels.shape as [number, number, number, number];
  if (b !== images.shape[0] || h !== images.shape[1] || w !== images.shape[2]) {
    throw new InputError(`${what} shape [${labels.shape.join(', ')}] does not match the images' [${images.shape[0]}, graders, ${images.shape[1]}, ${images.shape[2]}]`);
  }
  if (a === 0) throw new InputError(`${what} have zero graders per image`);
  const data = await labels.data();
  checkLabelValues(data, spec, what, (i) => {
    const [n, g] = [Math.floor(i / (a * h * w)), Math.floor(i / (h * w)) % a];
    return ` (image ${n}, grader ${g})`;
  });
}

function checkLabelShape(labels: tf.Tensor, images: tf.Tensor4D, what: string): asserts labels is tf.Tensor3D {
  if (!(labels instanceof tf.Tensor)) throw new InputError(`${what} must be a tf.Tensor, got ${typeof labels}`);
  if (labels.rank !== 3) throw new InputError(`${what} must have rank 3 [batch, height, width], got shape [${labels.shape.join(', ')}]`);
  if (labels.dtype !== 'int32') throw new InputError(`${what} must be int32 class indices, got ${labels.dtype}`);
  const [b, h, w] = images.shape;
  if (labels.shape[0] !== b || labels.shape[1] !== h || labels.shape[2] !== w) {
    throw new InputError(`${what} shape [${labels.shape.join(', ')}] does not match the images' [${b}, ${h}, ${w}]`);
  }
}

function checkLabelValues(data: tf.TypedArray | ArrayLike<number>, spec: InputSpec, what: string, where: (i: number) => string = () => ''): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if ((v < 0 || v >= spec.numClasses) && v !== spec.ignoreLabel) {
      throw new InputError(
        `${what} contain the value ${v} at flat index ${i}${where(i)}; valid labels are 0..${spec.numClasses - 1} and the ignore label ${spec.ignoreLabel}`,
      );
    }
  }
}

/** Validates n and returns it as an integer. */
export function validateCount(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new InputError(`${what} must be a positive integer, got ${n}`);
  return n;
}
