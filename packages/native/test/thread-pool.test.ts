import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { loadNativeKernels } from '../src/index.js';
import { addonPath, compilerPresent } from './addon.js';
import { randomArray } from './reference.js';

/** Thread ids of this process's pool threads (named "probunet-pool"). */
function poolThreads(): string[] {
  return readdirSync('/proc/self/task')
    .filter((tid) => {
      try {
        return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'probunet-pool';
      } catch {
        return false; // the thread ended while we looked
      }
    })
    .sort();
}

const geometry = { batch: 2, inH: 24, inW: 24, inC: 16, outH: 24, outW: 24, outC: 32, kh: 3, kw: 3, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padTop: 1, padLeft: 1 };
const shape = Object.values(geometry);
const x = randomArray(2 * 24 * 24 * 16, 1);
const f = randomArray(9 * 16 * 32, 2);

describe.skipIf(!compilerPresent)('@probunet/native thread pool', () => {
  it.skipIf(process.platform !== 'linux')('keeps its threads across calls instead of starting new ones', () => {
    const native = loadNativeKernels();
    native.setThreads(2);
    const out = new Float32Array(2 * 24 * 24 * 32);
    native.conv2d(x, f, out, geometry); // 10.6 MFLOP: split over two threads
    const first = poolThreads();
    for (let i = 0; i < 20; i++) native.conv2d(x, f, out, geometry);
    native.setThreads(0);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(poolThreads()).toEqual(first);
  });

  it('serves concurrent calls from worker threads with the same results as one thread', async () => {
    const native = loadNativeKernels();
    native.setThreads(1);
    const want = new Float32Array(2 * 24 * 24 * 32);
    native.conv2d(x, f, want, geometry);
    native.setThreads(2);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const raw = require(workerData.addonPath);
      const out = new Float32Array(workerData.outLength);
      const sums = [];
      for (let i = 0; i < 30; i++) {
        out.fill(NaN);
        raw.conv2d(workerData.x, workerData.f, out, workerData.shape, null, 0, 0);
        sums.push(Buffer.from(out.buffer).toString('base64'));
      }
      parentPort.postMessage(sums);`;
    const runs = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<string[]>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { addonPath, x, f, shape, outLength: want.length } });
            w.once('message', resolve);
            w.once('error', reject);
          }),
      ),
    );
    native.setThreads(0);
    const expected = Buffer.from(want.buffer).toString('base64');
    for (const sums of runs) for (const s of sums) expect(s === expected).toBe(true);
  });
});
