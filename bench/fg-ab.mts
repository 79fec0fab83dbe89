import { loadNativeKernels } from '@probunet/native';
const native = loadNativeKernels();
native.setThreads(Number(process.env.T ?? 1));
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const shapes: Array<[number, number, number]> = [[128, 1, 32], [128, 32, 32], [64, 32, 64], [64, 64, 64], [32, 64, 128], [32, 128, 128], [16, 128, 192], [16, 192, 192], [128, 3, 32], [128, 96, 32]];
const batch = Number(process.env.B ?? 2);
const out: Record<string, number[]> = {};
const best = (f: () => void) => { f(); const ts: number[] = []; for (let r = 0; r < 5; r++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); } return Math.min(...ts); };
for (const [hw, cin, cout] of shapes) {
  const g = { batch, inH: hw, inW: hw, inC: cin, outH: hw, outW: hw, outC: cout, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 };
  const x = rand(batch * hw * hw * cin), dy = rand(batch * hw * hw * cout), w = rand(9 * cin * cout), dw = new Float32Array(9 * cin * cout), y = new Float32Array(dy.length), dx = new Float32Array(x.length);
  const gf = 2 * batch * hw * hw * 9 * cin * cout / 1e6;
  const r = (ms: number) => Math.round(gf / ms);
  out[`${hw}:${cin}->${cout}`] = [r(best(() => native.conv2d(x, w, y, g))), cin >= 16 ? r(best(() => native.conv2dBackpropInput(dy, w, dx, g))) : 0, r(best(() => native.conv2dBackpropFilter(x, dy, dw, g)))];
}
console.log(process.env.PROBUNET_NATIVE_ADDON ?? 'built', JSON.stringify(out));
