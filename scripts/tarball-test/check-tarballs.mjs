#!/usr/bin/env node
// What every tarball must (and must not) hold: LICENSE, README, a package.json without the
// `@probunet/source` condition whose every export target is in the tarball, no sources or tests,
// and source maps of the package's own sources only (a dependency bundled into dist/ shows there).
//   node check-tarballs.mjs <folder of .tgz files>
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const problems = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.tgz'))) {
  const tgz = join(dir, file);
  const paths = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).trim().split('\n').map((p) => p.replace(/^package\//, ''));
  const read = (p) => execFileSync('tar', ['-xOzf', tgz, `package/${p}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const bad = (msg) => problems.push(`${file}: ${msg}`);
  for (const required of ['LICENSE', 'README.md', 'package.json']) if (!paths.includes(required)) bad(`no ${required}`);
  if (read('LICENSE').indexOf('Apache License') === -1 || !read('LICENSE').includes('Version 2.0')) bad('LICENSE is not the Apache-2.0 text');
  for (const p of paths) {
    if (/(^|\/)(src|test|__fixtures__|bench)\//.test(p) && !p.startsWith('csrc/')) bad(`ships ${p} (sources or tests)`);
    if (/\.test\.|\.spec\.|tsconfig|vitest\.config|tsup\.config|\.generated\./.test(p)) bad(`ships ${p}`);
    if (/\.ts$/.test(p) && !/\.d\.ts$/.test(p)) bad(`ships TypeScript source ${p}`);
  }
  const pkg = JSON.parse(read('package.json'));
  if (JSON.stringify(pkg.exports ?? {}).includes('@probunet/source')) bad('package.json keeps the @probunet/source export condition');
  if (pkg.license !== 'Apache-2.0') bad(`license ${pkg.license}`);
  for (const field of ['repository', 'homepage', 'bugs', 'engines', 'main', 'types']) if (!pkg[field]) bad(`package.json has no ${field}`);
  for (const [sub, entry] of Object.entries(pkg.exports ?? {})) {
    if (entry === null || typeof entry === 'string') continue;
    if (!entry.types || !entry.default) bad(`exports["${sub}"] lacks a types or default condition`);
    for (const target of Object.values(entry)) if (!paths.includes(target.replace(/^\.\//, ''))) bad(`exports["${sub}"] → ${target}, not in the tarball`);
  }
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies })) {
    const range = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies }[dep];
    if (/^(workspace|file|link):/.test(range)) bad(`dependency ${dep}@${range} cannot be published`);
  }
  for (const map of paths.filter((p) => p.endsWith('.js.map'))) {
    // Our own sources stay embedded (src/ is not shipped, so that is how a debugger shows them); a
    // dependency's never. tfjs-core's engine, tensors or environment bundled would be a second
    // tfjs-core: only its gradient files may be (see tsup.shared.ts).
    const { sources = [], sourcesContent = [] } = JSON.parse(read(map));
    const foreign = sources.map((s, i) => [s, sourcesContent[i]]).filter(([s]) => !/^(\.\.\/)+src\//.test(s));
    const embedded = foreign.filter(([, c]) => c != null);
    if (embedded.length) bad(`${map} embeds ${embedded.length} third-party sources (e.g. ${embedded[0][0]})`);
    const core = foreign.filter(([s]) => !s.startsWith('tfjs-core-public:') && /tfjs-core\/(dist|src)\/(engine|environment|tensor|global_util|kernel_registry|tape)\./.test(s));
    if (core.length) bad(`${map} bundles tfjs-core's ${core[0][0]}: tfjs-core must stay an external dependency`);
  }
  console.log(`${file}: ${paths.length} files`);
}
if (problems.length) {
  console.error(`tarball check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('tarball contents: ok');
