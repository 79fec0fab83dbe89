import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The offline path for tfjs-node: checks that run before anything is installed. (A real
// libtensorflow 2.9.1 archive cannot be fetched on the project's machines.)
const script = fileURLToPath(new URL('../../../scripts/install-tfjs-node.mjs', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

describe('scripts/install-tfjs-node.mjs', () => {
  it('needs exactly one of --archive or --mirror', () => {
    const r = run();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/give exactly one of --archive PATH or --mirror URL/);
  });

  it('names a missing archive', () => {
    const r = run('--archive', '/nonexistent/libtensorflow.tar.gz');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/archive not found: \/nonexistent\/libtensorflow.tar.gz/);
  });

  it('rejects an archive without libtensorflow 2.9.1, before installing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tfn-'));
    await mkdir(join(dir, 'lib'));
    await writeFile(join(dir, 'lib', 'libtensorflow.so.2.7.0'), 'not it');
    spawnSync('tar', ['-czf', join(dir, 'old.tar.gz'), '-C', dir, 'lib']);
    const r = run('--archive', join(dir, 'old.tar.gz'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/does not contain lib\/libtensorflow.so.2.9.1: tfjs-node 4.22.0 needs libtensorflow 2.9.1/);
  });
});
