import * as tf from '@tensorflow/tfjs-core';
import { capabilityMarker } from '@probunet/core/internal';
import type { NativeKernels } from '@probunet/native';
import { nativeFirst, type KernelFunc, type KernelHost } from '../native-kernels/host.js';
import { COMPUTE_KERNELS, ELEMENTWISE_KERNELS, FUSED, LAYOUT_KERNELS } from '../native-kernels/table.js';

/**
 * The `native` backend: every tensor is a JavaScript typed array (as on TensorFlow.js's cpu
 * backend, whose storage and kernels it extends), so there is no 4 GiB heap as on wasm: a batch
 * needs only the memory the machine has. The kernels that carry a training step run in
 * @probunet/native (our C++, on every core, AVX2 + FMA where the processor has them) directly on
 * those arrays, without copies (native-kernels/table.ts):
 * - COMPUTE_KERNELS: convolutions, their two gradients, matrix products, channel splits and
 *   average-pool gradients;
 * - LAYOUT_KERNELS: sums and means over any contiguous run of axes, average pooling,
 *   concatenation, bilinear resizing and its gradient;
 * - ELEMENTWISE_KERNELS: Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference with any
 *   broadcast that collapses to four dimensions; Relu, Step, Sqrt, Square, Exp, Log, Neg, Abs,
 *   Sigmoid, Tanh, Rsqrt, Reciprocal, Softplus, Log1p; AddN.
 * Their float32 outputs come from a pool of arrays reused as soon as their last tensor is disposed
 * (nativeBackendClass says how that stays safe). Every other kernel, and every case the native ones
 * do not cover (another dtype or data format, a broadcast they cannot express), is the cpu
 * backend's own. It declares the `exactConvBackprop` capability (core's backendCapabilities()).
 */
export const NATIVE = 'native';

/** The members of tfjs-backend-cpu's MathBackendCPU this backend builds on (4.22). */
interface CpuBackend extends tf.KernelBackend {
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
  move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void;
  readSync(dataId: object): tf.backend_util.BackendValues;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}
export type CpuBackendClass = new () => CpuBackend;

let installedWith: NativeKernels | null = null;

/**
 * Free arrays the pool keeps, in bytes: PROBUNET_NATIVE_POOL_MB when set, otherwise the largest
 * working set seen so far (the bytes of pooled arrays in use at once), so that every array a
 * training step frees is there for the next step whatever the batch size. A released array beyond
 * it is left to the garbage collector.
 */
const POOL_MB = Number(typeof process === 'undefined' ? undefined : process.env?.PROBUNET_NATIVE_POOL_MB);
const POOL_CAP_OVERRIDE = POOL_MB > 0 ? POOL_MB * 2 ** 20 : null;

/** Throws naming what is missing when the cpu backend class lacks what this backend uses. */
function assertCpuBackend(Cpu: unknown): asserts Cpu is CpuBackendClass {
  const proto = (Cpu as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  const missing = ['makeTensorInfo', 'write', 'move', 'incRef', 'readSync', 'disposeData'].filter((m) => typeof proto?.[m] !== 'function');
  if (missing.length) {
    throw new Error(`@tensorflow/tfjs-backend-cpu's MathBackendCPU lacks ${missing.join(', ')}: the native backend was written against tfjs-backend-cpu 4.22`);
  }
}

/** What the pool did since the backend started (for tests and benchmarks). */
export interface NativePoolStats {
  /** Output arrays served from the pool, and newly allocated. */
  reused: number;
  allocated: number;
  /** Bytes of free arrays held for reuse. */
  pooledBytes: number;
  /** Bytes of pooled arrays in use now, and at most so far (the cap, unless PROBUNET_NATIVE_POOL_MB sets it). */
  liveBytes: number;
  peakLiveBytes: number;
}

/**
 * A cpu backend whose float32 outputs of native kernels come from a pool of arrays, reused as soon
 * as the last tensor holding one is disposed: a training step allocates the same shapes every
 * step, and a fresh multi-megabyte array costs page faults and zero-filling on every allocation
 * (the cost PyTorch's users avoid with jemalloc or tcmalloc). An array may be held by several
 * tensors (a reshape shares the data id; a contiguous slice on cpu is a view into its input's
 * buffer), so the pool counts, per buffer, the data ids whose values are in it, and takes the
 * buffer back only when none is left. Reads hand out copies of pooled arrays, so an array returned
 * by `dataSync()` never changes under its reader.
 */
function nativeBackendClass(Cpu: CpuBackendClass) {
  return class NativeBackend extends Cpu {
    private readonly free = new Map<number, Float32Array[]>();
    private readonly holders = new Map<ArrayBufferLike, number>();
    private readonly pooled = new WeakSet<ArrayBufferLike>();
    readonly poolStats: NativePoolStats = { reused: 0, allocated: 0, pooledBytes: 0, liveBytes: 0, peakLiveBytes: 0 };

    /** A float32 output for a native kernel (uninitialised when reused: the native kernels write all of it). */
    nativeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo {
      const size = tf.util.sizeFromShape(shape);
      if (dtype !== 'float32') return this.makeTensorInfo(shape, dtype, tf.util.getTypedArrayFromDType(dtype as 'int32', size));
      let values = this.free.get(size)?.pop();
      if (values) {
        this.poolStats.reused++;
        this.poolStats.pooledBytes -= values.byteLength;
      } else {
        values = new Float32Array(size);
        this.pooled.add(values.buffer);
        this.poolStats.allocated++;
      }
      this.poolStats.liveBytes += values.byteLength;
      this.poolStats.peakLiveBytes = Math.max(this.poolStats.peakLiveBytes, this.poolStats.liveBytes);
      return this.makeTensorInfo(shape, dtype, values);
    }

    /** The tensor's own array (a view into its buffer: outputs are written through it). */
    nativeArray(info: tf.TensorInfo): Float32Array {
      const values = this.data.get(info.dataId)?.values;
      if (values instanceof Float32Array) return values;
      // A float32 tensor made from a plain array or another typed array: a float32 copy to read.
      return Float32Array.from(values as ArrayLike<number>);
    }

    override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
      const id = super.write(values, shape, dtype);
      this.hold(values);
      return id;
    }

    override move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
      super.move(dataId, values, shape, dtype, refCount);
      this.hold(values);
    }

    override readSync(dataId: object): tf.backend_util.BackendValues {
      const values = super.readSync(dataId);
      return values instanceof Float32Array && this.pooled.has(values.buffer) ? values.slice() : values;
    }

    override disposeData(dataId: object, force = false): boolean {
      const values = this.data.get(dataId)?.values;
      const done = super.disposeData(dataId, force);
      if (values !== undefined && !this.data.has(dataId)) this.release(values);
      return done;
    }

    /** Frees the pool's free arrays (to the garbage collector). */
    trimPool(): void {
      this.free.clear();
      this.poolStats.pooledBytes = 0;
    }

    override dispose(): void {
      this.trimPool();
      super.dispose();
    }

    private hold(values: unknown): void {
      if (!(values instanceof Float32Array) || !this.pooled.has(values.buffer)) return;
      this.holders.set(values.buffer, (this.holders.get(values.buffer) ?? 0) + 1);
    }

    private release(values: unknown): void {
      if (!(values instanceof Float32Array) || !this.pooled.has(values.buffer)) return;
      const buffer = values.buffer;
      const left = (this.holders.get(buffer) ?? 1) - 1;
      if (left > 0) {
        this.holders.set(buffer, left);
        return;
      }
      this.holders.delete(buffer);
      this.poolStats.liveBytes -= buffer.byteLength;
      if (this.poolStats.pooledBytes + buffer.byteLength > (POOL_CAP_OVERRIDE ?? this.poolStats.peakLiveBytes)) return;
      const whole = new Float32Array(buffer);
      const list = this.free.get(whole.length);
      if (list) list.push(whole);
      else this.free.set(whole.length, [whole]);
      this.poolStats.pooledBytes += buffer.byteLength;
    }
  };
}

type NativeBackendInstance = InstanceType<ReturnType<typeof nativeBackendClass>>;

/** What the native kernels see of the backend (their KernelHost interface). */
const hosts = new WeakMap<NativeBackendInstance, KernelHost>();
function hostOf(backend: NativeBackendInstance): KernelHost {
  let host = hosts.get(backend);
  if (!host) {
    host = Object.assign(Object.create(backend) as KernelHost, {
      makeOutput: (shape: number[], dtype: tf.DataType) => backend.nativeOutput(shape, dtype),
      typedArrayFromHeap: (info: tf.TensorInfo) => backend.nativeArray(info),
      incRef: (dataId: object) => backend.incRef(dataId),
    });
    hosts.set(backend, host);
  }
  return host;
}

/** The pool's counters of the active native backend (null when another backend is active). */
export function nativePoolStats(): NativePoolStats | null {
  if (tf.getBackend() !== NATIVE) return null;
  return { ...(tf.backend() as unknown as NativeBackendInstance).poolStats };
}

/**
 * Registers the 'native' backend: a subclass of tfjs-backend-cpu's MathBackendCPU, every cpu
 * kernel registered for it too, the kernels listed above replaced by native-first versions, and
 * the exactConvBackprop capability marker. The cpu backend package must already be imported (its
 * kernels registered); pass its MathBackendCPU. Idempotent; a later call swaps in another
 * NativeKernels instance.
 */
export function registerNativeBackend(native: NativeKernels, MathBackendCPU: unknown): void {
  if (installedWith) {
    installedWith = native;
    return;
  }
  assertCpuBackend(MathBackendCPU);
  const cpuKernels = tf.getKernelsForBackend('cpu');
  if (cpuKernels.length === 0) throw new Error('the cpu backend registers no kernels: import @tensorflow/tfjs-backend-cpu first');
  installedWith = native;
  const Backend = nativeBackendClass(MathBackendCPU);
  // Priority 0: never picked implicitly over the others; initBackend('native') selects it.
  tf.registerBackend(NATIVE, () => new Backend(), 0);
  const impls = { ...COMPUTE_KERNELS, ...LAYOUT_KERNELS, ...ELEMENTWISE_KERNELS, ...FUSED };
  for (const k of cpuKernels) {
    if (!(k.kernelName in impls)) tf.registerKernel({ ...k, backendName: NATIVE });
  }
  for (const [name, impl] of Object.entries(impls)) {
    const original = cpuKernels.find((k) => k.kernelName === name);
    const cpuKernel = original?.kernelFunc as unknown as KernelFunc | undefined;
    const run = nativeFirst(name, (args) => impl(installedWith!, { ...args, backend: hostOf(args.backend as unknown as NativeBackendInstance) }), cpuKernel, NATIVE);
    tf.registerKernel({ ...(original ?? {}), kernelName: name, backendName: NATIVE, kernelFunc: run as unknown as tf.KernelFunc });
  }
  tf.registerKernel(capabilityMarker('exactConvBackprop', NATIVE));
}
