#!/usr/bin/env node
// Writes the README's library example (the ```ts block tagged `readme-library`) to a file, as is.
//   node extract-readme-example.mjs <README.md> <out.ts>
import { readFileSync, writeFileSync } from 'node:fs';

const [readme, out] = process.argv.slice(2);
const code = /```ts readme-library\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
if (!code) throw new Error(`${readme} has no \`\`\`ts readme-library block`);
writeFileSync(out, code);
