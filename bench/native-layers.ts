/**
 * Where the native kernels stand against the machine's FMA peak, layer by layer: every 3×3
 * convolution of one LIDC train step (U-Net down and up paths, prior and posterior nets), each as
 * forward, input gradient and filter gradient, timed alone on @probunet/native's kernels with all
 * cores (best of two medians of 3). Run by `npm run bench` (its "per layer" table); alone:
 *
 *   npx tsx bench/native-layers.ts --batch 8 --peak 233
 *
 * Each pass is timed twice, alternately: as the kernels run it by default (Winograd F(2×2, 3×3) for
 * these stride-1 3×3 layers) and as the direct product (`setWinograd(false)`). GFLOP/s are the
 * direct convolution's FLOPs over the time, for both: for Winograd an *effective* rate, which may
 * exceed the FMA peak (it multiplies 16/36 as often); the share of the peak is given for the direct
 * product only.
 *
 * Prints one JSON document: per layer and pass ms, GFLOP/s and share of the peak, and the sums over
 * the step (what a train step costs in these kernels if nothing else ran), both ways.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { loadNativeKernels, type ConvGeometry } from '@probunet/native';
import { lidcConvLayers } from './lidc-config.js';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '8' }, size: { type: 'string', default: '128' }, peak: { type: 'string' } } });
const batch = Number(values.batch);
const size = Number(values.size);
const peak = values.peak ? Number(values.peak) : NaN;
const native = loadNativeKernels();
native.setThreads(availableParallelism());

const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
function time(fn: () => void, reps = 3): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

const rows: Array<Record<string, unknown>> = [];
const totals = { forward: 0, inputGradient: 0, filterGradient: 0 };
const totalsDirect = { forward: 0, inputGradient: 0, filterGradient: 0 };
const winograd = native.info().winograd;
let flopsTotal = 0;
for (const l of lidcConvLayers(size)) {
  const g: ConvGeometry = { batch, inH: l.hw, inW: l.hw, inC: l.cin, outH: l.hw, outW: l.hw, outC: l.cout, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 };
  const x = rand(batch * l.hw * l.hw * l.cin), w = rand(9 * l.cin * l.cout), y = new Float32Array(batch * l.hw * l.hw * l.cout), dw = new Float32Array(9 * l.cin * l.cout);
  const flops = 2 * batch * l.hw * l.hw * 9 * l.cin * l.cout;
  const passes = [
    ['forward', () => native.conv2d(x, w, y, g)],
    // The first conv of each net needs no input gradient (the image is not trained).
    ...(l.firstOfNet ? [] : [['inputGradient', () => native.conv2dBackpropInput(y, w, x, g)] as const]),
    ['filterGradient', () => native.conv2dBackpropFilter(x, y, dw, g)],
  ] as const;
  for (const [pass, fn] of passes) {
    // Default and direct in turn, so that a slow minute hits both.
    const t: number[] = [], d: number[] = [];
    for (let r = 0; r < 2; r++) {
      native.setWinograd(winograd);
      t.push(time(fn));
      native.setWinograd(false);
      d.push(time(fn));
    }
    native.setWinograd(winograd);
    const ms = Math.min(...t), msDirect = Math.min(...d);
    const gflops = flops / ms / 1e6, gflopsDirect = flops / msDirect / 1e6;
    totals[pass] += ms * l.count;
    totalsDirect[pass] += msDirect * l.count;
    flopsTotal += flops * l.count;
    rows.push({ layer: l.name, shape: `${batch}×${l.hw}²×${l.cin}→${l.cout}`, count: l.count, pass, ms, gflops, msDirect, gflopsDirect, ofPeakDirect: Number.isFinite(peak) ? gflopsDirect / peak : null });
  }
}
native.setThreads(0);
const sum = (t: typeof totals) => t.forward + t.inputGradient + t.filterGradient;
const ms = sum(totals), msDirect = sum(totalsDirect);
console.log(
  JSON.stringify({
    batch,
    size,
    threads: availableParallelism(),
    isa: native.info().isa,
    winograd,
    peakGflops: Number.isFinite(peak) ? peak : null,
    rows,
    totals: { ...totals, ms, msPerImage: ms / batch, gflops: flopsTotal / ms / 1e6 },
    totalsDirect: { ...totalsDirect, ms: msDirect, msPerImage: msDirect / batch, gflops: flopsTotal / msDirect / 1e6, ofPeak: Number.isFinite(peak) ? flopsTotal / msDirect / 1e6 / peak : null },
  }),
);
