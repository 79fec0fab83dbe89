import { cpus, hostname } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';

/** The median of `xs` (the mean of the middle two for an even count); NaN — null in JSON — for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The machine a bench result was measured on, as every bench JSON records it. */
export function machineInfo(): { host: string; cpus: number; cpuModel: string | undefined; node: string } {
  return { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
}

/**
 * Which kernels `run` spends its time in (kernel time as the backend reports it), the `top` largest
 * with their share of the total. tf.customGrad ops show under their scope's name (probunet/…) with
 * their inner kernels' time, which the inner kernels report again: they are skipped.
 */
export async function kernelProfile(run: () => Promise<unknown>, top: number): Promise<Array<{ kernel: string; ms: number; calls: number; share: number }>> {
  const info = await tf.profile(async () => {
    await run();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    if (k.name.includes('/')) continue;
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  return [...byKernel]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(([kernel, e]) => ({ kernel, ms: Math.round(e.ms), calls: e.calls, share: e.ms / total }));
}
