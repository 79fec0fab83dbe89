#!/usr/bin/env node
// npm `prepack` / `postpack` of every published @probunet/* package (run in the package's folder).
// The `@probunet/source` export condition points at src/*.ts, which the tarball does not ship, so
// the packed package.json must not carry it. npm has no publishConfig override for `exports`, so
// prepack removes the condition from package.json (remembering it in .source-condition.json) and
// postpack puts it back. Restoring re-inserts only the removed entries into the file as it is then,
// so an edit made to package.json between the two is kept.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const CONDITION = '@probunet/source';
const SAVED = '.source-condition.json';
const restore = process.argv.includes('--restore');

function writeAtomic(file, text) {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const text = readFileSync('package.json', 'utf8');
const pkg = JSON.parse(text);
const exportsMap = pkg.exports ?? {};

if (!restore) {
  if (existsSync(SAVED)) {
    throw new Error(`${process.cwd()}/${SAVED} exists: a previous pack did not finish; run 'node ${process.argv[1]} --restore' here first`);
  }
  const removed = {};
  for (const [sub, entry] of Object.entries(exportsMap)) {
    if (entry && typeof entry === 'object' && CONDITION in entry) {
      removed[sub] = entry[CONDITION];
      delete entry[CONDITION];
    }
  }
  if (Object.keys(removed).length === 0) process.exit(0);
  writeAtomic(SAVED, `${JSON.stringify(removed, null, 2)}\n`);
  writeAtomic('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
} else {
  if (!existsSync(SAVED)) process.exit(0);
  const removed = JSON.parse(readFileSync(SAVED, 'utf8'));
  for (const [sub, source] of Object.entries(removed)) {
    const entry = exportsMap[sub];
    if (!entry || typeof entry !== 'object' || CONDITION in entry) continue;
    // The condition comes first: Node and TypeScript take the first matching key.
    exportsMap[sub] = { [CONDITION]: source, ...entry };
  }
  writeAtomic('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
  rmSync(SAVED);
}
