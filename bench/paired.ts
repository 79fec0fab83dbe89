/**
 * Paired train-step comparison for a noisy host: our backend and PyTorch's two fastest allocator
 * configurations (tcmalloc preloaded, glibc tuned) run in turn, N rounds, each its own process, and
 * the ratio is taken round by round (ours / the faster PyTorch of that round), so that a host whose
 * speed drifts by tens of per cent between minutes (a shared 2-vCPU VM) moves both sides of each
 * ratio alike. Writes bench/results/paired-<date>.json and prints it.
 *
 *   npx tsx bench/paired.ts --backend native --batch 8 --rounds 6 --steps 5
 *
 * PyTorch comes from Debian's python3-torch (`npm run bench` installs it); ms per image are each
 * process's median step after a warm-up step.
 */
import { spawnSync } from 'node:child_process';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@probunet/core/node';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '6' },
    steps: { type: 'string', default: '5' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const batch = Number(values.batch);
const steps = String(Number(values.steps));
const rounds = Number(values.rounds);
const log = (s: string) => process.stderr.write(`${s}\n`);

function lastJson(stdout: string): Record<string, unknown> | null {
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  } catch {
    return null;
  }
}

// The native kernels' configuration as train-step.ts reports it (ISA, Winograd), from the last run.
let nativeKernels: unknown = null;
function ours(): number | null {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), ['bench/train-step.ts', '--backend', values.backend!, '--batch', String(batch), '--steps', steps], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = lastJson(r.stdout ?? '') as { train?: { msPerImage?: number }; nativeKernels?: unknown } | null;
  nativeKernels = out?.nativeKernels ?? nativeKernels;
  return out?.train?.msPerImage ?? null;
}

const PYTORCH = [
  { name: 'tcmalloc', env: { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4' } },
  { name: 'glibc tuned', env: { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '100000000000', MALLOC_TOP_PAD_: '1000000000' } },
];
function pytorch(env: Record<string, string>): number | null {
  const r = spawnSync('/usr/bin/python3', ['bench/pytorch/prob_unet_bench.py', '--threads', String(cpus().length), '--batch', String(batch), '--steps', steps], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return ((lastJson(r.stdout ?? '') as { train?: Array<{ msPerImage?: number }> } | null)?.train?.[0]?.msPerImage) ?? null;
}

const runs: Array<Record<string, number | null>> = [];
for (let i = 0; i < rounds; i++) {
  const round: Record<string, number | null> = { [values.backend!]: ours() };
  for (const p of PYTORCH) round[`PyTorch ${p.name}`] = pytorch(p.env);
  const best = Math.min(...PYTORCH.map((p) => round[`PyTorch ${p.name}`] ?? Infinity));
  round.ratio = round[values.backend!] !== null && Number.isFinite(best) ? round[values.backend!]! / best : null;
  runs.push(round);
  log(`round ${i + 1}/${rounds}: ${JSON.stringify(round)}`);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const ratios = runs.map((r) => r.ratio).filter((x): x is number => typeof x === 'number');
const column = (k: string) => runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
const result = {
  benchmark: 'probunet paired train step',
  date: new Date().toISOString(),
  machine: { host: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
  backend: values.backend,
  nativeKernels,
  batch,
  stepsPerProcess: Number(steps),
  runs,
  medianRatio: median(ratios),
  bestOfEach: Object.fromEntries([values.backend!, ...PYTORCH.map((p) => `PyTorch ${p.name}`)].map((k) => [k, Math.min(...column(k))])),
};
await writeFileAtomic(join(root, 'bench/results', `paired-${result.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
