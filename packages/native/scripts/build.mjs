#!/usr/bin/env node
// Compiles the native kernels with node-gyp at install time. Installing must never fail because a
// native build cannot run (no compiler, no Node headers, another platform): on failure this prints
// why, records it in build/status.json (the loader reports it) and exits 0. `--required` (or
// PROBUNET_NATIVE_REQUIRED=1) makes a failed build an error; PROBUNET_NATIVE=off skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, nodeDirArgs } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--required') || process.env.PROBUNET_NATIVE_REQUIRED === '1';

function record(status) {
  mkdirSync(join(root, 'build'), { recursive: true });
  const file = join(root, 'build', 'status.json');
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...status, node: process.version, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString() }, null, 2));
  renameSync(`${file}.tmp`, file);
}

if (process.env.PROBUNET_NATIVE === 'off') {
  record({ ok: false, reason: 'skipped: PROBUNET_NATIVE=off at install time' });
  console.log('@probunet/native: build skipped (PROBUNET_NATIVE=off)');
  process.exit(0);
}

const gyp = findNodeGyp();
let reason;
let log = '';
if (!gyp) {
  reason = 'node-gyp was not found (it ships with npm; or `npm i -D node-gyp`)';
} else {
  const started = Date.now();
  // The sources are several translation units: compile them on every core the process may use.
  const jobs = String(Math.max(1, availableParallelism()));
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--jobs=${jobs}`, ...nodeDirArgs()], { cwd: root, encoding: 'utf8', env: process.env });
  log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status === 0 && existsSync(join(root, 'build', 'Release', 'probunet_native.node'))) {
    record({ ok: true, seconds: (Date.now() - started) / 1000 });
    console.log(`@probunet/native: compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.exit(0);
  }
  const errLines = log.split('\n').filter((l) => /error|not found|ERR!/i.test(l)).slice(0, 8);
  reason = `node-gyp rebuild failed (exit ${r.status ?? r.signal}): ${errLines.join(' | ') || 'see build/build.log'}`;
}
mkdirSync(join(root, 'build'), { recursive: true });
writeFileSync(join(root, 'build', 'build.log'), log);
record({ ok: false, reason });
console.warn(
  `@probunet/native: not compiled — ${reason}\n  The native and wasm-native backends will be unavailable (initBackend('auto') falls through to wasm, then cpu); everything else works.\n  Full log: ${join(root, 'build', 'build.log')}. To build again: npm rebuild @probunet/native`,
);
process.exit(required ? 1 : 0);
