#!/usr/bin/env node
// `npm run test:sanitize`: builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer
// into build-sanitize/ (the normal build in build/ is left alone) and runs the native test suite
// against it. `--thread` builds with ThreadSanitizer into build-tsan/ instead. Any report fails the
// run: UB aborts (-fno-sanitize-recover), ASan and TSan exit non-zero. Linux with gcc or clang.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeGyp, nodeDirArgs } from './node-gyp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const thread = process.argv.includes('--thread');
const name = thread ? 'tsan' : 'sanitize';
const sanitizers = thread ? 'thread' : 'address,undefined';
const runtime = thread ? 'libtsan.so' : 'libasan.so';
// The suites that load the addon (install.test.ts builds its own copy with a failing compiler).
const suites = ['test/native.test.ts', 'test/randomised.test.ts', 'test/thread-pool.test.ts', 'test/out-of-memory.test.ts', 'test/loader.test.ts'];

function fail(message) {
  console.error(`test:${name}: ${message}`);
  process.exit(1);
}

// The sanitizer runtime must be the first library in the process: node is not built with it.
const cxx = process.env.CXX || 'g++';
const lib = spawnSync(cxx, [`-print-file-name=${runtime}`], { encoding: 'utf8' }).stdout?.trim();
if (!lib || !existsSync(lib)) {
  fail(`${cxx} has no ${runtime} (Debian: apt-get install g++, or clang with libclang-rt-14-dev and CXX=clang++)`);
}

// The same target as binding.gyp, sources read from the package, sanitizer flags added.
const dir = join(root, `build-${name}`);
mkdirSync(dir, { recursive: true });
const gyp = JSON.parse(readFileSync(join(root, 'binding.gyp'), 'utf8'));
const target = gyp.targets[0];
target.sources = target.sources.map((s) => `../${s}`);
target.cflags_cc = ['-O1', '-g', '-std=c++17', '-fno-math-errno', '-fPIC', `-fsanitize=${sanitizers}`, '-fno-omit-frame-pointer', '-fno-sanitize-recover=all'];
target.ldflags = [`-fsanitize=${sanitizers}`];
writeFileSync(join(dir, 'binding.gyp'), `${JSON.stringify(gyp, null, 2)}\n`);

const nodeGyp = findNodeGyp();
if (!nodeGyp) fail('node-gyp was not found (it ships with npm)');
console.log(`test:${name}: building with -fsanitize=${sanitizers} in ${dir}`);
const build = spawnSync(process.execPath, [nodeGyp, 'rebuild', ...nodeDirArgs()], { cwd: dir, stdio: 'inherit' });
if (build.status !== 0) fail(`node-gyp rebuild failed (exit ${build.status ?? build.signal})`);
const addon = join(dir, 'build', 'Release', 'probunet_native.node');

const env = {
  ...process.env,
  PROBUNET_NATIVE_ADDON: addon,
  LD_PRELOAD: [lib, process.env.LD_PRELOAD].filter(Boolean).join(':'),
  // Node itself leaks at exit; a kernel's failed allocation must come back as null, not abort.
  ASAN_OPTIONS: `detect_leaks=0:allocator_may_return_null=1:abort_on_error=0:exitcode=86${process.env.ASAN_OPTIONS ? `:${process.env.ASAN_OPTIONS}` : ''}`,
  UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1${process.env.UBSAN_OPTIONS ? `:${process.env.UBSAN_OPTIONS}` : ''}`,
  TSAN_OPTIONS: `exitcode=86:halt_on_error=1:report_signal_unsafe=0:suppressions=${join(root, 'scripts', 'tsan-suppressions.txt')}${process.env.TSAN_OPTIONS ? `:${process.env.TSAN_OPTIONS}` : ''}`,
};
const vitest = join(root, '../../node_modules/vitest/vitest.mjs');
console.log(`test:${name}: LD_PRELOAD=${lib} PROBUNET_NATIVE_ADDON=${addon} vitest run ${suites.join(' ')}`);
const run = spawnSync(process.execPath, [vitest, 'run', ...suites, ...process.argv.slice(2).filter((a) => a !== '--thread')], { cwd: root, stdio: 'inherit', env });
process.exit(run.status ?? 1);
