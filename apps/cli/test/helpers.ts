import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyntheticLidc } from '@probunet/datasets';
import { encode } from 'fast-png';
import { vi } from 'vitest';
import { main } from '../src/index.js';

/** A tiny Prob. U-Net: trains a step in well under a second on the cpu backend. */
export const TINY_PROB_UNET = { type: 'prob-unet', inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1 };

export async function tempDir(tag: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `probunet-${tag}-`));
}

/** Runs the CLI in-process, capturing stdout and stderr. */
export async function runCli(argv: string[], onStderr?: (line: string) => void): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    onStderr?.(String(s));
    return true;
  });
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** Writes example 0 of the synthetic LIDC-like data (32×32) as an image PNG and its first grader's 0/255 mask. */
export async function writeSyntheticPngs(dir: string): Promise<{ image: string; annotation: string }> {
  const ex = await createSyntheticLidc({ count: 1, size: 32, seed: 5 }).get(0);
  const gray = Uint8Array.from(ex.image, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
  const mask = Uint8Array.from(ex.annotations[0]!, (v) => (v ? 255 : 0));
  const image = join(dir, 'x.png');
  const annotation = join(dir, 'y.png');
  await writeFile(image, encode({ width: 32, height: 32, data: gray, channels: 1, depth: 8 }));
  await writeFile(annotation, encode({ width: 32, height: 32, data: mask, channels: 1, depth: 8 }));
  return { image, annotation };
}
