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
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFileAtomic } from '@probunet/core/node';
import { PYTORCH_ALLOCATORS, child, root } from './processes.js';
import { machineInfo, median } from './bench-utils.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'native' },
    batch: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '6' },
    steps: { type: 'string', default: '5' },
  },
});
const batch = Number(values.batch);
const steps = String(Number(values.steps));
const rounds = Number(values.rounds);
const log = (s: string) => process.stderr.write(`${s}\n`);

// The native kernels' configuration as train-step.ts reports it (ISA, Winograd), from the last run.
let nativeKernels: unknown = null;
function ours(): number | null {
  const r = child(join(root, 'node_modules/.bin/tsx'), ['bench/train-step.ts', '--backend', values.backend!, '--batch', String(batch), '--steps', steps], 30 * 60_000);
  const out = r.json as { train?: { msPerImage?: number }; nativeKernels?: unknown } | undefined;
  nativeKernels = out?.nativeKernels ?? nativeKernels;
  return out?.train?.msPerImage ?? null;
}

// PyTorch's two fastest configurations on this host (jemalloc was 7× slower than tcmalloc on it).
const PYTORCH = PYTORCH_ALLOCATORS.filter((a) => a.name === 'tcmalloc' || a.name === 'glibc tuned');
function pytorch(a: (typeof PYTORCH)[number]): number | null {
  const env = { ...process.env, ...a.env, ...(a.preload ? { LD_PRELOAD: a.preload } : {}) };
  const r = child('/usr/bin/python3', ['bench/pytorch/prob_unet_bench.py', '--threads', String(cpus().length), '--batch', String(batch), '--steps', steps], 30 * 60_000, env);
  return (r.json as { train?: Array<{ msPerImage?: number }> } | undefined)?.train?.[0]?.msPerImage ?? null;
}

const runs: Array<Record<string, number | null>> = [];
for (let i = 0; i < rounds; i++) {
  const round: Record<string, number | null> = { [values.backend!]: ours() };
  for (const p of PYTORCH) round[`PyTorch ${p.name}`] = pytorch(p);
  const best = Math.min(...PYTORCH.map((p) => round[`PyTorch ${p.name}`] ?? Infinity));
  round.ratio = round[values.backend!] !== null && Number.isFinite(best) ? round[values.backend!]! / best : null;
  runs.push(round);
  log(`round ${i + 1}/${rounds}: ${JSON.stringify(round)}`);
}
const ratios = runs.map((r) => r.ratio).filter((x): x is number => typeof x === 'number');
const column = (k: string) => runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number');
const result = {
  benchmark: 'probunet paired train step',
  date: new Date().toISOString(),
  machine: machineInfo(),
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
