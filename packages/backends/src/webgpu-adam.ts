import * as tf from '@tensorflow/tfjs-core';
import { CAPABILITY_KERNELS } from '@probunet/core/internal';

/**
 * Core's fused Adam update (`ProbunetAdamUpdate`, the `fusedAdam` capability) for
 * tfjs-backend-webgpu: per weight, four programs — the new weight, the new first moment, the new
 * second moment (one element-wise program each: tfjs-webgpu programs have one output) and Σ(Δw)²
 * (one workgroup of 256 threads, summing in a fixed order: deterministic) — where core's chain of
 * element-wise ops dispatches about 15 (mul, mul, add, square, mul, mul, add, sqrt, add, div, mul,
 * sub, square, sum). Each program recomputes m and v from the inputs (a few flops per element) rather
 * than waiting for another's output. The arithmetic follows core's chain op for op in float32
 * (m·β1 + g·(1 − β1), v·β2 + g²·(1 − β2), m / (√v + ε) · stepSize, w − update).
 */

/** The members of tfjs-backend-webgpu's WebGPUBackend this kernel uses (4.22). */
interface WebgpuBackendLike {
  runWebGPUProgram(program: unknown, inputs: tf.TensorInfo[], outputDtype: tf.DataType, uniforms?: Array<{ type: string; data: number[] }>): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

type Output = 'weight' | 'm' | 'v' | 'sumSq';
const WORKGROUP = 64;
/** Grid-stride loops: at most this many workgroups per element-wise program (any size fits the dispatch limit). */
const MAX_WORKGROUPS = 4096;
const SUM_THREADS = 256;

const UNIFORMS = 'count : i32, stride : i32, b1 : f32, b2 : f32, omb1 : f32, omb2 : f32, eps : f32, stepSize : f32,';

/**
 * The inputs a program reads (WebGPU drops an unread binding, so each program binds only these)
 * and the WGSL that computes them for element i: `mi`, `vi`, `update`.
 */
function elementMath(output: Output, state: boolean): { inputs: string[]; code: string } {
  const needM = output !== 'v';
  const needV = output !== 'm';
  const inputs = [...(output === 'weight' ? ['w'] : []), 'g', ...(state && needM ? ['m'] : []), ...(state && needV ? ['v'] : [])];
  const lines = ['let gi = g[i];'];
  if (needM) lines.push(`let mi = ${state ? 'm[i] * uniforms.b1 + gi * uniforms.omb1' : 'gi * uniforms.omb1'};`);
  if (needV) lines.push(`let vi = ${state ? 'v[i] * uniforms.b2 + (gi * gi) * uniforms.omb2' : '(gi * gi) * uniforms.omb2'};`);
  if (needM && needV) lines.push('let update = (mi / (sqrt(vi) + uniforms.eps)) * uniforms.stepSize;');
  return { inputs, code: lines.join('\n          ') };
}

class AdamElementProgram {
  variableNames: string[];
  uniforms = UNIFORMS;
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey: string;

  constructor(
    private readonly output: Exclude<Output, 'sumSq'>,
    private readonly state: boolean,
    shape: number[],
    workgroups: number,
  ) {
    this.variableNames = elementMath(output, state).inputs;
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [workgroups, 1, 1];
    this.shaderKey = `probunetAdam_${output}_${state}`;
  }

  getUserCode(): string {
    const value = { weight: 'w[i] - update', m: 'mi', v: 'vi' }[this.output];
    return `
      fn main(index : i32) {
        for (var i = index; i < uniforms.count; i = i + uniforms.stride) {
          ${elementMath(this.output, this.state).code}
          result[i] = ${value};
        }
      }
    `;
  }
}

/** Σ update² over the whole weight, in one workgroup: per-thread strided sums, then a tree. */
class AdamSumSquaresProgram {
  variableNames: string[];
  uniforms = UNIFORMS;
  workgroupSize: [number, number, number] = [SUM_THREADS, 1, 1];
  outputShape = [1];
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number] = [1, 1, 1];
  shaderKey: string;

  constructor(private readonly state: boolean) {
    this.variableNames = elementMath('sumSq', state).inputs;
    this.shaderKey = `probunetAdam_sumSq_${state}`;
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<f32, ${SUM_THREADS}>;

      // A flat dispatch layout: tfjs-webgpu passes the global index (here the thread's, one workgroup).
      fn main(index : i32) {
        let tid = index;
        var total = 0.0;
        for (var i = tid; i < uniforms.count; i = i + ${SUM_THREADS}) {
          ${elementMath('sumSq', this.state).code}
          total = total + update * update;
        }
        partial[tid] = total;
        workgroupBarrier();
        for (var span = ${SUM_THREADS / 2}; span > 0; span = span / 2) {
          if (tid < span) {
            partial[tid] = partial[tid] + partial[tid + span];
          }
          workgroupBarrier();
        }
        if (tid == 0) {
          result[0] = partial[0];
        }
      }
    `;
  }
}

interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  stepSize: number;
}

/**
 * `ProbunetAdamUpdate` {w, g[, m, v]} → [weight, m, v, Σ update²] (float32; m and v absent on the
 * first step). Core checks dtype and shape before calling; this kernel checks them again and
 * throws, naming the problem, where they do not hold.
 */
export function webgpuAdamUpdate(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { w, g, m, v } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  if (!w || !g || (m === undefined) !== (v === undefined)) throw new Error('ProbunetAdamUpdate on webgpu needs w and g, and m and v together or neither');
  const all = [w, g, ...(m && v ? [m, v] : [])];
  if (all.some((t) => t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, w.shape))) {
    throw new Error(`ProbunetAdamUpdate on webgpu needs float32 tensors of one shape, got ${all.map((t) => `${t.dtype}[${t.shape}]`).join(', ')}`);
  }
  const { beta1, beta2, epsilon, stepSize } = args.attrs as unknown as AdamAttrs;
  const backend = args.backend as WebgpuBackendLike;
  const count = tf.util.sizeFromShape(w.shape);
  if (count === 0) {
    const empty = () => backend.makeTensorInfo([...w.shape], 'float32', new Float32Array(0));
    return [empty(), empty(), empty(), backend.makeTensorInfo([], 'float32', new Float32Array([0]))];
  }
  const state = m !== undefined;
  const workgroups = Math.min(Math.ceil(count / WORKGROUP), MAX_WORKGROUPS);
  const f32 = (x: number) => ({ type: 'float32', data: [x] });
  const uniforms = [
    { type: 'int32', data: [count] },
    { type: 'int32', data: [workgroups * WORKGROUP] },
    f32(beta1),
    f32(beta2),
    f32(1 - beta1),
    f32(1 - beta2),
    f32(epsilon),
    f32(stepSize),
  ];
  const named: Record<string, tf.TensorInfo> = { w, g, ...(m && v ? { m, v } : {}) };
  const run = (program: AdamElementProgram | AdamSumSquaresProgram) => backend.runWebGPUProgram(program, program.variableNames.map((n) => named[n]!), 'float32', uniforms);
  const outs = (['weight', 'm', 'v'] as const).map((o) => run(new AdamElementProgram(o, state, [...w.shape], workgroups)));
  const sum = run(new AdamSumSquaresProgram(state));
  // The [1] result as the scalar core expects: same data, no copy (nothing else holds it).
  return [...outs, { dataId: sum.dataId, shape: [], dtype: 'float32' }];
}

/**
 * Registers `ProbunetAdamUpdate` for webgpu, which declares the `fusedAdam` capability: core's Adam
 * then runs four programs per weight instead of its chain of element-wise ops. Idempotent.
 */
export function installWebgpuAdam(): void {
  if (tf.getKernel(CAPABILITY_KERNELS.fusedAdam, 'webgpu')) return;
  tf.registerKernel({ kernelName: CAPABILITY_KERNELS.fusedAdam, backendName: 'webgpu', kernelFunc: webgpuAdamUpdate as unknown as tf.KernelFunc });
}
