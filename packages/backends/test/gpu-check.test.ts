import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gpuReportProblems } from '../../../scripts/gpu-check/report-schema.js';

// The GPU check (scripts/gpu-check): packed here, run on a bare GPU machine. CI packs it, checks the
// size limit, and runs the pack from a copy outside the repository with no Node.js on PATH, on
// the software adapter (Dawn on Mesa's OpenGL): the same report, reduced speed section. That run
// takes a few minutes on 2 cores: a slow suite, run where PROBUNET_SLOW_TESTS=1 (CI sets it).

const root = new URL('../../../', import.meta.url).pathname;
const slow = process.env.PROBUNET_SLOW_TESTS === '1';
const scratch = mkdtempSync(join(tmpdir(), 'probunet-gpu-check-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const recorded = join(root, 'bench/results/gpu');
const recordedReports = existsSync(recorded) ? readdirSync(recorded).filter((f) => f.endsWith('.json')) : [];

describe('GPU check report schema', () => {
  const minimal = () => ({
    schema: 'probunet-gpu-check/1',
    createdAt: '2026-11-30T18:00:00+00:00',
    ok: false,
    machine: { hostname: 'h' },
    steps: [{ name: 'webgpu check', status: 'failed', seconds: 1, reason: 'no adapter' }],
    adapter: null,
    parity: null,
    webgpu: null,
    pytorch: { fp32: null, tf32: null },
    gpuMemoryPeakMiB: {},
    ratios: [],
  });

  it('accepts a report of a run that failed early, with its reason', () => {
    expect(gpuReportProblems(minimal())).toEqual([]);
  });

  it('names what is wrong in a malformed report', () => {
    const r = minimal() as Record<string, unknown>;
    r.schema = 'other/2';
    r.steps = [{ name: 'parity', status: 'failed', seconds: 1 }];
    r.ratios = [{ ratio: 'fast' }];
    const problems = gpuReportProblems(r);
    expect(problems.join('\n')).toMatch(/schema is "other\/2"/);
    expect(problems.join('\n')).toMatch(/steps\[0\] \(parity\) failed without a reason/);
    expect(problems.join('\n')).toMatch(/ratios\[0\] lacks ratio/);
    expect(gpuReportProblems([])).toEqual(['the report is not a JSON object']);
  });

  it.each(recordedReports.length ? recordedReports : ['(none recorded)'])('recorded GPU run %s conforms, ran on a hardware adapter and held parity', (file) => {
    if (!recordedReports.length) return expect(recordedReports).toEqual([]);
    const report = JSON.parse(readFileSync(join(recorded, file), 'utf8'));
    expect(gpuReportProblems(report)).toEqual([]);
    expect(report.adapter.software).toBe(false);
    expect(report.parity.pass).toBe(true);
  });
});

describe.skipIf(!slow)('GPU check pack (CI: pack, size limit, a run from the pack alone on the software adapter)', () => {
  const pack = join(scratch, 'pack');

  it('pack.sh writes a folder under 60 MiB with everything run.sh needs', () => {
    const r = spawnSync('bash', [join(root, 'scripts/gpu-check/pack.sh'), pack], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(pack);
    for (const f of ['node.xz', 'dawn.node.xz', 'check.mjs', 'reference.json', 'prob_unet_bench.py', 'torch_layers.py', 'run.sh', 'merge.py', 'MANIFEST']) expect(files).toContain(f);
    expect(files.some((f) => /^libvulkan1_.*\.deb$/.test(f))).toBe(true);
    const bytes = files.reduce((a, f) => a + statSync(join(pack, f)).size, 0);
    expect(bytes).toBeLessThan(60 * 2 ** 20);
    expect(files.some((f) => f === 'node_modules')).toBe(false);
  }, 360_000);

  it('run.sh from a copy outside the repository, with no Node.js on PATH, reports parity and speed', () => {
    if (!existsSync(pack)) throw new Error('the pack test did not produce a pack');
    const copy = join(scratch, 'copied-pack');
    cpSync(pack, copy, { recursive: true });
    // A PATH of the system's tools without node, npm or npx.
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir)) {
        if (/^(node|nodejs|npm|npx|corepack)$/.test(f) || existsSync(join(bin, f))) continue;
        symlinkSync(join(dir, f), join(bin, f));
      }
    }
    expect(spawnSync('bash', ['-c', 'command -v node'], { env: { PATH: bin } }).status).not.toBe(0);
    const out = join(scratch, 'out');
    const r = spawnSync('bash', [join(copy, 'run.sh'), out], {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 480_000,
      env: { PATH: bin, HOME: scratch, PROBUNET_GPU_CHECK_ARGS: '--batches 1' },
    });
    expect(r.status, r.stdout.slice(-3000)).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(gpuReportProblems(report)).toEqual([]);
    const status = Object.fromEntries(report.steps.map((s: { name: string; status: string }) => [s.name, s.status]));
    expect(status['unpack node']).toBe('ok');
    expect(status['webgpu check']).toBe('ok');
    expect(status['webgpu: parity']).toBe('ok');
    expect(report.adapter.software).toBe(true);
    expect(report.parity.pass).toBe(true);
    expect(report.webgpu.reduced).toBe(true);
    expect(report.webgpu.train[0].batch).toBe(1);
    // Per layer, our kernels against the stock ones (bench/webgpu-layer-times.ts), both agreeing.
    expect(status['webgpu: per-layer kernels, batch 1']).toBe('ok');
    const layerRows = report.webgpu.layers[0].rows as Array<{ relativeL2VsStock: number; msOurs: number }>;
    expect(layerRows.length).toBeGreaterThan(10);
    for (const row of layerRows) expect(row.relativeL2VsStock).toBeLessThan(1e-4);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/Parity, our kernels \(pass/);
    expect(basename(out)).toBe('out');
  }, 540_000);
});
