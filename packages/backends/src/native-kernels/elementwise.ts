import * as tf from '@tensorflow/tfjs-core';
import type { NativeBinaryOp, NativeKernels, NativeUnaryOp } from '@probunet/native';
import { isF32, type KernelArgs } from './host.js';

/** TensorFlow.js kernel names → the native element-wise operations that compute them. */
export const BINARY_KERNELS: Readonly<Record<string, NativeBinaryOp>> = {
  Add: 'add',
  Sub: 'sub',
  Multiply: 'mul',
  RealDiv: 'div',
  Maximum: 'maximum',
  Minimum: 'minimum',
  SquaredDifference: 'squaredDifference',
};

export const UNARY_KERNELS: Readonly<Record<string, NativeUnaryOp>> = {
  Relu: 'relu',
  Step: 'step',
  Sqrt: 'sqrt',
  Square: 'square',
  Exp: 'exp',
  Log: 'log',
  Neg: 'neg',
  Abs: 'abs',
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Rsqrt: 'rsqrt',
  Reciprocal: 'reciprocal',
  Softplus: 'softplus',
  Log1p: 'log1p',
};

/**
 * True when `shape` broadcast to `out` is its own values repeated (out's size / its size times):
 * it is 1 along a leading run of out's axes and equal to out along the rest (or a single value).
 */
export function repeatsAlongLeadingAxes(shape: readonly number[], out: readonly number[]): boolean {
  if (tf.util.sizeFromShape([...shape]) === 1) return true;
  if (shape.length > out.length) return false;
  const aligned = [...new Array<number>(out.length - shape.length).fill(1), ...shape];
  let k = 0;
  while (k < aligned.length && aligned[k] === 1) k++;
  for (let j = k; j < aligned.length; j++) if (aligned[j] !== out[j]) return false;
  return true;
}

/**
 * The broadcast of `a` and `b` to `out`, collapsed to at most four dimensions (adjacent axes along
 * which each side either broadcasts or not alike are merged): dims and element strides (0 where a
 * side broadcasts). Null when more than four dimensions remain.
 */
export function collapseBroadcast(a: readonly number[], b: readonly number[], out: readonly number[]): { dims: number[]; aStrides: number[]; bStrides: number[] } | null {
  const r = out.length;
  const align = (s: readonly number[]) => [...new Array<number>(r - s.length).fill(1), ...s];
  const [pa, pb] = [align(a), align(b)];
  const dims: number[] = [];
  const flags: Array<[boolean, boolean]> = [];
  for (let i = 0; i < r; i++) {
    if (out[i] === 1) continue;
    const f: [boolean, boolean] = [pa[i] === 1, pb[i] === 1];
    const last = flags.at(-1);
    if (last && last[0] === f[0] && last[1] === f[1]) dims[dims.length - 1]! *= out[i]!;
    else {
      dims.push(out[i]!);
      flags.push(f);
    }
  }
  if (dims.length > 4) return null;
  while (dims.length < 4) {
    dims.unshift(1);
    flags.unshift([true, true]);
  }
  const strides = (side: 0 | 1) => {
    const st = [0, 0, 0, 0];
    let step = 1;
    for (let j = 3; j >= 0; j--) {
      if (!flags[j]![side]) {
        st[j] = step;
        step *= dims[j]!;
      }
    }
    return st;
  };
  return { dims, aStrides: strides(0), bStrides: strides(1) };
}

/** Add, Sub, Multiply, … on float32, any broadcast that collapses to four dimensions. */
export function binary(native: NativeKernels, op: NativeBinaryOp, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const a = inputs.a as tf.TensorInfo;
  const b = inputs.b as tf.TensorInfo;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  let outShape: number[];
  try {
    outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  } catch {
    return null; // the host kernel raises its own shape error
  }
  if (repeatsAlongLeadingAxes(a.shape, outShape) && repeatsAlongLeadingAxes(b.shape, outShape)) {
    const out = backend.makeOutput(outShape, 'float32');
    if (tf.util.sizeFromShape(outShape) === 0) return out;
    native.binary(op, backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), backend.typedArrayFromHeap(out));
    return out;
  }
  const collapsed = collapseBroadcast(a.shape, b.shape, outShape);
  if (!collapsed) return null;
  const out = backend.makeOutput(outShape, 'float32');
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  native.binaryStrided(op, backend.typedArrayFromHeap(a), collapsed.aStrides, backend.typedArrayFromHeap(b), collapsed.bStrides, backend.typedArrayFromHeap(out), collapsed.dims);
  return out;
}

/** Relu, Step, Sqrt, Exp, … on float32. */
export function unary(native: NativeKernels, op: NativeUnaryOp, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const x = inputs.x as tf.TensorInfo;
  if (x.dtype !== 'float32') return null;
  const out = backend.makeOutput(x.shape, 'float32');
  if (tf.util.sizeFromShape(x.shape) === 0) return out;
  const alpha = op === 'step' ? ((args.attrs ?? {}) as { alpha?: number }).alpha ?? 0 : 0;
  native.unary(op, backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out), alpha);
  return out;
}

/** AddN (every gradient a tensor receives from several uses, summed). */
export function addN(native: NativeKernels, args: KernelArgs): tf.TensorInfo | null {
  const { inputs, backend } = args;
  const xs = inputs as unknown as tf.TensorInfo[];
  if (xs.length === 0 || !isF32(...xs) || xs.some((x) => !tf.util.arraysEqual(x.shape, xs[0]!.shape))) return null;
  const out = backend.makeOutput(xs[0]!.shape, 'float32');
  if (tf.util.sizeFromShape(xs[0]!.shape) === 0) return out;
  native.addN(
    xs.map((x) => backend.typedArrayFromHeap(x)),
    backend.typedArrayFromHeap(out),
  );
  return out;
}
