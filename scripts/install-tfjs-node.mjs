#!/usr/bin/env node
// Installs @tensorflow/tfjs-node (or -gpu) 4.22.0 where its postinstall cannot download
// libtensorflow 2.9.1 (firewalls, offline machines), in one of the two ways tfjs-node supports:
//
//   node scripts/install-tfjs-node.mjs --archive ./libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz [--gpu]
//       a local copy of the libtensorflow archive: unpacked into the package's deps/, so its
//       installer skips the download and builds the native addon here (node-gyp: python3, make, g++)
//   node scripts/install-tfjs-node.mjs --mirror https://mirror.example/libtensorflow/libtensorflow- [--gpu]
//       a mirror of the download host (TFJS_NODE_BASE_URI)
//
// Then `npx probunet backends` reports `node` (or `node-gpu`) as selected. Nothing is saved to
// package.json: the project never depends on a native backend.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const LIB = 'lib/libtensorflow.so.2.9.1';
const { values } = parseArgs({ options: { archive: { type: 'string' }, mirror: { type: 'string' }, gpu: { type: 'boolean', default: false } } });
const fail = (msg) => {
  console.error(`install-tfjs-node: ${msg}`);
  process.exit(2);
};
if (!values.archive === !values.mirror) fail('give exactly one of --archive PATH or --mirror URL (see the comment at the top of this script)');
const pkg = values.gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
};

if (values.archive) {
  const archive = resolve(values.archive);
  if (!existsSync(archive)) fail(`archive not found: ${archive}`);
  const listing = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' });
  if (listing.status !== 0) fail(`${archive} is not a readable .tar.gz: ${listing.stderr.trim()}`);
  const entries = listing.stdout.split('\n').map((e) => e.replace(/^\.\//, ''));
  if (!entries.includes(LIB)) fail(`${archive} does not contain ${LIB}: tfjs-node 4.22.0 needs libtensorflow 2.9.1 (${values.gpu ? 'gpu' : 'cpu'}, linux x86_64)`);
  run('npm', ['install', '--no-save', '--ignore-scripts', `${pkg}@4.22.0`]);
  const dir = join(process.cwd(), 'node_modules', pkg);
  mkdirSync(join(dir, 'deps'), { recursive: true });
  run('tar', ['-xzf', archive, '-C', join(dir, 'deps')]);
  // The package's own installer finds deps/lib and only builds the addon.
  run(process.execPath, ['scripts/install.js', values.gpu ? 'gpu' : 'cpu'], { cwd: dir });
} else {
  run('npm', ['install', '--no-save', `${pkg}@4.22.0`], { env: { ...process.env, TFJS_NODE_BASE_URI: values.mirror } });
}
run(process.execPath, ['-e', `require('${pkg}'); console.log('${pkg} loads')`]);
