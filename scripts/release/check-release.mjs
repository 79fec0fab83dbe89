#!/usr/bin/env node
// Part of dry-run.sh: after `changeset version` in the copy at argv[2], every public @probunet/*
// package must carry the same new version, depend on its siblings at that version, and pass
// `npm publish --dry-run` with LICENSE, README.md and package.json inside and no sources or tests.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const copy = process.argv[2];
const root = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8'));
const dirs = root.workspaces.filter((d) => !JSON.parse(readFileSync(join(copy, d, 'package.json'), 'utf8')).private);
const manifests = dirs.map((d) => ({ dir: d, pkg: JSON.parse(readFileSync(join(copy, d, 'package.json'), 'utf8')) }));
const versions = new Set(manifests.map((m) => m.pkg.version));
const problems = [];
if (versions.size !== 1) problems.push(`the fixed group split: ${manifests.map((m) => `${m.pkg.name}@${m.pkg.version}`).join(', ')}`);
const [version] = versions;
for (const { pkg } of manifests) {
  for (const [dep, range] of Object.entries({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
    if (dep.startsWith('@probunet/') && !range.endsWith(version)) problems.push(`${pkg.name} depends on ${dep}@${range}, not ^${version}`);
  }
}
for (const { dir, pkg } of manifests) {
  const out = execFileSync('npm', ['publish', '--dry-run', '--json', '--loglevel=error', '--tag', 'dry-run'], { cwd: join(copy, dir), encoding: 'utf8', maxBuffer: 64 << 20 });
  const report = JSON.parse(out.slice(out.indexOf('{')));
  const files = (report[pkg.name] ?? report).files.map((f) => f.path);
  for (const required of ['LICENSE', 'README.md', 'package.json']) if (!files.includes(required)) problems.push(`${pkg.name}: no ${required}`);
  const stray = files.filter((f) => /(^|\/)(src|test|bench)\/|\.test\.|tsconfig|vitest\.config|tsup\.config/.test(f) && !f.startsWith('csrc/'));
  if (stray.length) problems.push(`${pkg.name}: publishes ${stray.join(', ')}`);
  console.log(`${pkg.name}@${pkg.version}: npm publish --dry-run, ${files.length} files`);
}
if (problems.length) {
  console.error(`release dry run failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`the fixed group would publish as ${version}`);
