#!/usr/bin/env node
// Writes an app's package.json that installs @probunet/* from the packed tarballs only:
//   node make-app.mjs <app dir> <tarball dir> <package short names…> [-- <registry deps…>]
// Every @probunet/* package, asked for or pulled in by another one, resolves to its tarball
// (`overrides`), so nothing comes from a workspace link or the registry under our name.
// `allowScripts` lets @probunet/native compile at install (npm ≥ 11 blocks dependency install
// scripts not listed there).
import { readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [appDir, tarballDir, ...rest] = process.argv.slice(2);
const split = rest.indexOf('--');
const ours = split === -1 ? rest : rest.slice(0, split);
const registryDeps = split === -1 ? [] : rest.slice(split + 1);

const tarballs = Object.fromEntries(
  readdirSync(tarballDir)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => [`@probunet/${/^probunet-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(f)[1]}`, `file:${resolve(tarballDir, f)}`]),
);
const spec = (name) => {
  const s = tarballs[name];
  if (!s) throw new Error(`no tarball for ${name} in ${tarballDir}: ${Object.keys(tarballs).join(', ')}`);
  return s;
};
const dependencies = Object.fromEntries(ours.map((n) => [`@probunet/${n}`, spec(`@probunet/${n}`)]));
for (const d of registryDeps) {
  const at = d.lastIndexOf('@');
  dependencies[d.slice(0, at)] = d.slice(at + 1);
}
const pkg = {
  name: `probunet-tarball-test-${appDir.split('/').at(-1)}`,
  private: true,
  type: 'module',
  dependencies,
  overrides: Object.fromEntries(Object.keys(tarballs).filter((n) => !(n in dependencies)).map((n) => [n, tarballs[n]])),
  allowScripts: { '@probunet/native': true },
};
writeFileSync(join(appDir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
