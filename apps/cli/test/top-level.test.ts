import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('probunet (no command)', () => {
  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(version);
    }
  });

  it('--help is short: the commands, not every command\'s options', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Commands:\n\s+demo /);
    expect(r.out).not.toMatch(/--model/);
    expect(r.out.split('\n').length).toBeLessThan(30);
    const all = await runCli(['help', '--all']);
    expect(all.out).toMatch(/probunet train .*\n[\s\S]*--model/);
  });

  it('help <command> prints that command\'s own help', async () => {
    const r = await runCli(['help', 'train']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^probunet train/);
  });

  it.each([
    [['--bogus'], /unknown option "--bogus"/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['demo', '--bogus'], /probunet demo: Unknown option '--bogus'/],
    [['backends', '--bogus'], /probunet backends: Unknown option '--bogus'/],
    [['train', '--bogus'], /probunet train: Unknown option '--bogus'/],
    [['data', 'check'], /probunet data: --source must be one of/],
  ])('a usage error exits 2: %j', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});
