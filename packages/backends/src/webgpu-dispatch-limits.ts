import * as tf from '@tensorflow/tfjs-core';

/**
 * tfjs-backend-webgpu 4.22 transposes a matrix with a shared-memory program that dispatches one
 * workgroup row per 16 rows of its input, so a matrix with more than 65,535 × 16 = 1,048,560 rows
 * exceeds WebGPU's 65,535 workgroups per dimension and fails with "Dispatch size exceeds WebGPU
 * limits in Y or Z dimension". Its reductions transpose first when the reduced axis is not the
 * innermost one, so a Sum over axis 0 of a [1,048,576, 32] matrix (a bias gradient of the LIDC model
 * at batch 64 of 128×128 images) fails the same way (seen on an NVIDIA H200 through Dawn/Vulkan,
 * 2026-11-30). Two wrappers, each running the stock kernel unchanged for every other input:
 * - Transpose: such matrices are transposed in blocks of rows and the blocks concatenated;
 * - Sum over axis 0 of such a matrix: reduced as [R, 1, C] over axis 0, which tfjs transposes with
 *   its general (flat-dispatch) program.
 * (The kernels inside tfjs-webgpu that call its transpose directly, other than the reductions,
 * are not covered; none is on the models' training path.)
 */
export const WEBGPU_TRANSPOSE_MAX_ROWS = 65_535 * 16;
const BLOCK_ROWS = 1 << 19;

let stockKernel: tf.KernelFunc | null = null;

/** The stock Transpose kernel the fix wraps (null before it is installed); for tests. */
export function stockWebgpuTransposeKernel(): tf.KernelFunc | null {
  return stockKernel;
}

/** Idempotent; call after @tensorflow/tfjs-backend-webgpu has registered its kernels. */
export function installWebgpuDispatchLimitFixes(): void {
  installTransposeFix();
  installSumFix();
}

let stockSum: tf.KernelFunc | null = null;

/** The stock Sum kernel the fix wraps (null before it is installed); for tests. */
export function stockWebgpuSumKernel(): tf.KernelFunc | null {
  return stockSum;
}

function installSumFix(): void {
  if (stockSum) return;
  const stock = tf.getKernel('Sum', 'webgpu');
  const reshape = tf.getKernel('Reshape', 'webgpu');
  if (!stock || !reshape) return;
  const original = stock.kernelFunc;
  stockSum = original;
  tf.unregisterKernel('Sum', 'webgpu');
  tf.registerKernel({
    kernelName: 'Sum',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
      const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + x.shape.length : a));
      const [rows = 0, cols = 0] = x.shape;
      if (x.shape.length !== 2 || axes.length !== 1 || axes[0] !== 0 || rows <= WEBGPU_TRANSPOSE_MAX_ROWS) return original(args);
      const backend = args.backend as { disposeData(id: object): void };
      const x3 = reshape.kernelFunc({ ...args, inputs: { x }, attrs: { shape: [rows, 1, cols] } }) as tf.TensorInfo;
      const summed = original({ ...args, inputs: { x: x3 }, attrs: { axis: [0], keepDims: false } }) as tf.TensorInfo;
      const out = reshape.kernelFunc({ ...args, inputs: { x: summed }, attrs: { shape: keepDims ? [1, cols] : [cols] } }) as tf.TensorInfo;
      backend.disposeData(x3.dataId);
      backend.disposeData(summed.dataId);
      return out;
    },
  });
}

function installTransposeFix(): void {
  if (stockKernel) return;
  const stock = tf.getKernel('Transpose', 'webgpu');
  const slice = tf.getKernel('Slice', 'webgpu');
  const concat = tf.getKernel('Concat', 'webgpu');
  if (!stock || !slice || !concat) return;
  const original = stock.kernelFunc;
  stockKernel = original;
  tf.unregisterKernel('Transpose', 'webgpu');
  tf.registerKernel({
    kernelName: 'Transpose',
    backendName: 'webgpu',
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const perm = (args.attrs as { perm: number[] }).perm;
      const [rows = 0, cols = 0] = x.shape;
      if (x.shape.length !== 2 || perm[0] !== 1 || Math.max(rows, cols) <= WEBGPU_TRANSPOSE_MAX_ROWS) return original(args);
      // Cut along the long side; each block transposes within the limit; join along the other axis.
      const axis = rows >= cols ? 0 : 1;
      const length = x.shape[axis]!;
      const backend = args.backend as { disposeData(id: object): void };
      const parts: tf.TensorInfo[] = [];
      for (let start = 0; start < length; start += BLOCK_ROWS) {
        const size = Math.min(BLOCK_ROWS, length - start);
        const block = slice.kernelFunc({ ...args, inputs: { x }, attrs: { begin: axis === 0 ? [start, 0] : [0, start], size: axis === 0 ? [size, cols] : [rows, size] } }) as tf.TensorInfo;
        parts.push(original({ ...args, inputs: { x: block } }) as tf.TensorInfo);
        backend.disposeData(block.dataId);
      }
      const out = concat.kernelFunc({ ...args, inputs: parts as unknown as tf.NamedTensorInfoMap, attrs: { axis: 1 - axis } }) as tf.TensorInfo;
      for (const p of parts) backend.disposeData(p.dataId);
      return out;
    },
  });
}
