import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_PROB_UNET, runCli, tempDir } from './helpers.js';

describe('probunet eval / merge', () => {
  let root = '';
  let ckpt = '';
  beforeAll(async () => {
    root = await tempDir('eval');
    await writeFile(join(root, 'model.json'), JSON.stringify(TINY_PROB_UNET));
    const r = await runCli(['train', '--model', join(root, 'model.json'), '--data', 'synthetic-lidc', '--size', '32', '--count', '4', '--batch', '2', '--steps', '2', '--backend', 'cpu', '--out', join(root, 'run')]);
    expect(r.code, r.err).toBe(0);
    ckpt = join(root, 'run', 'model.ckpt');
  }, 60_000);

  const evalArgs = (out: string, extra: string[] = []) => ['eval', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--size', '32', '--count', '6', '--samples', '1,4', '--backend', 'cpu', '--out', out, ...extra];

  it('writes results.json with the protocol card, per-image values and aggregates, and the GED figure', async () => {
    const out = join(root, 'eval');
    const r = await runCli([...evalArgs(out), '--json']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.images).toBe(6);
    expect(summary.bySampleCount.map((s: { samples: number }) => s.samples)).toEqual([1, 4]);
    expect((await readdir(out)).sort()).toEqual(['ged-vs-samples.svg', 'results.json']);
    const result = JSON.parse(await readFile(join(out, 'results.json'), 'utf8'));
    expect(result.card.format).toBe('probunet-evaluation');
    expect(result.card.protocol.sampleCounts).toEqual([1, 4]);
    expect(result.perImage).toHaveLength(6);
    const ged = result.bySampleCount[1].metrics.gedGraders;
    expect(ged.count).toBe(6);
    expect(ged.mean).toBeGreaterThanOrEqual(0);
    expect(ged.mean).toBeLessThanOrEqual(2);
    // GED against the true distribution is known for the synthetic data, and the oracle floor too.
    expect(result.bySampleCount[1].metrics.gedDistribution.count).toBe(6);
    expect(await readFile(join(out, 'ged-vs-samples.svg'), 'utf8')).toMatch(/<svg[\s\S]*samples per image/);
    // An existing folder is refused without --force.
    const again = await runCli(evalArgs(out));
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/--out .* exists: pass --force/);
  }, 120_000);

  it('two shards merged equal the unsharded run', async () => {
    const parts = [0, 1].map((k) => join(root, `part${k}`));
    for (const [k, out] of parts.entries()) {
      const r = await runCli(evalArgs(out, ['--shard', `${k}/2`]));
      expect(r.code, r.err).toBe(0);
    }
    const merged = join(root, 'merged');
    const m = await runCli(['merge', ...parts.map((p) => join(p, 'results.json')), '--out', merged]);
    expect(m.code, m.err).toBe(0);
    const whole = JSON.parse(await readFile(join(root, 'eval', 'results.json'), 'utf8'));
    const joined = JSON.parse(await readFile(join(merged, 'results.json'), 'utf8'));
    expect(joined.perImage).toEqual(whole.perImage);
    expect(joined.bySampleCount).toEqual(whole.bySampleCount);
    // A missing shard is refused, naming it.
    const lone = await runCli(['merge', join(parts[0]!, 'results.json'), '--out', join(root, 'lone')]);
    expect(lone.code).not.toBe(0);
    expect(lone.err).toMatch(/shard/i);
  }, 180_000);

  it('score --data assesses every grader of every image: CSV, JSON and the least plausible', async () => {
    const out = join(root, 'assessment');
    const r = await runCli(['score', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--size', '32', '--count', '3', '--samples', '4', '--worst', '2', '--backend', 'cpu', '--out', out, '--json']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.images).toBe(3);
    expect(summary.perGrader).toHaveLength(4);
    expect(summary.leastPlausible).toHaveLength(2);
    expect(summary.leastPlausible[0].logLikelihood).toBeLessThanOrEqual(summary.leastPlausible[1].logLikelihood);
    const csv = (await readFile(join(out, 'annotations.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('index,id,grader,elbo,logLikelihood,kl');
    expect(csv).toHaveLength(1 + 3 * 4);
    const assessment = JSON.parse(await readFile(join(out, 'assessment.json'), 'utf8'));
    expect(assessment.annotations).toHaveLength(12);
    for (const a of assessment.annotations) expect(Number.isFinite(a.logLikelihood) && a.kl >= 0).toBe(true);
  }, 120_000);

  it('bad input is one line and exit 2', async () => {
    const bad = await runCli(['eval', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--samples', '0,4', '--out', join(root, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--samples takes positive integers/);
    const shard = await runCli(['eval', '--checkpoint', ckpt, '--data', 'synthetic-lidc', '--shard', '2/2', '--out', join(root, 'y')]);
    expect(shard.code).toBe(2);
    expect(shard.err).toMatch(/--shard takes k\/N with 0 ≤ k < N/);
    const help = await runCli(['merge', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/probunet merge part0\/results.json/);
  });
});
