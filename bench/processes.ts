/**
 * What the benchmark scripts share: the repository root, running a child process that prints JSON,
 * and the configurations PyTorch's reference runs in (`run.ts` runs them all; `paired.ts` the two
 * fastest, tcmalloc and glibc tuned).
 */
import { spawnSync } from 'node:child_process';

export const root = new URL('..', import.meta.url).pathname;

export function child(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): { ok: boolean; json?: Record<string, unknown>; reason?: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20, env });
  if (r.status === 0) {
    // A child prints either one JSON line last, or one (pretty-printed) JSON document.
    for (const text of [r.stdout?.trim().split('\n').at(-1), r.stdout]) {
      try {
        if (text) return { ok: true, json: JSON.parse(text) };
      } catch {
        /* try the next form */
      }
    }
  }
  const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const lines = (r.stderr ?? '').trim().split('\n');
  // The first line that names an error says more than the stack's last lines.
  const errorLine = lines.find((l) => /(Error|Aborted|abort|out of memory|Cannot)/.test(l) && !/^\s+at /.test(l)) ?? lines.at(-1) ?? '';
  return { ok: false, reason: `${why}: ${errorLine.trim().slice(0, 300)}` };
}

// PyTorch as its CPU users run it: jemalloc or tcmalloc preloaded (PyTorch's CPU performance guide),
// or glibc's allocator tuned to keep freed memory; glibc's default (which returns every large block
// to the system and page-faults it back) is run beside them for context only. The configurations
// alternate over rounds, so a noisy moment hits them all; each keeps its best round, and every
// ratio is taken against the fastest configuration per batch.
export const PYTORCH_ALLOCATORS: Array<{ name: string; env: Record<string, string>; preload?: string }> = [
  { name: 'jemalloc', env: {}, preload: '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2' },
  { name: 'tcmalloc', env: {}, preload: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4' },
  { name: 'glibc tuned', env: { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '100000000000', MALLOC_TOP_PAD_: '1000000000' } },
  { name: 'glibc default', env: {} },
];
