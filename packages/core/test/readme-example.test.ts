import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// Runs the README's example exactly as written, so it cannot silently rot.
it('the README example runs', async () => {
  const readme = await readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const code = /```ts readme-example\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const file = fileURLToPath(new URL('./readme-example.generated.ts', import.meta.url));
  await writeFile(file, `${code}\nexport {};\n`);
  const logs: unknown[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => logs.push(a.join(' '));
  try {
    await import(/* @vite-ignore */ `${file}?t=${Date.now()}`);
  } finally {
    console.log = log;
    await rm(file, { force: true });
  }
  expect(logs.at(-1)).toBe('2,16,16,16');
  expect(logs[0]).toMatch(/^step 1: −ELBO \d/);
});
