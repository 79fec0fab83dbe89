import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from './cli-errors.js';
import { BACKENDS_HELP, backends } from './commands/backends.js';
import { DATA_HELP, data } from './commands/data.js';
import { DEMO_HELP, demo } from './commands/demo.js';
import { EVAL_HELP, MERGE_HELP, evaluate, merge } from './commands/eval.js';
import { LATENT_HELP, latent } from './commands/latent.js';
import { REPRODUCE_HELP, reproduce } from './commands/reproduce.js';
import { SAMPLE_HELP, sample } from './commands/sample.js';
import { SCORE_HELP, score } from './commands/score.js';
import { TRAIN_HELP, train } from './commands/train.js';

const HELP = `probunet — the Probabilistic U-Net (Kohl et al., NeurIPS 2018) on TensorFlow.js

Usage: probunet <command> [options]
       probunet --version | --help

Commands:
  demo       train on the embedded synthetic data, sample, score, write a report and figures
  backends   report which TensorFlow.js backend runs here and why the others do not
  data       check a dataset on disk (summary as JSON), or write fixture trees in the real formats
  train      train any of the six models on any dataset source, resumable
  sample     sample segmentations of an image; masks, overlay grid, uncertainty maps
  score      ELBO and log-likelihood of an annotation under a Prob. U-Net
  latent     latent traversal grid of a Prob. U-Net for an image
  eval       score a checkpoint's samples on a dataset (GED, matched IoU, NCC, ECE, protocol card; shards)
  merge      join the shard results of eval --shard k/N
  reproduce  the paper's comparison (Prob. U-Net and five baselines) on synthetic known-truth data

Run 'probunet <command> --help' for a command's options.
`;

/** This package's version, from its package.json (one folder above dist/ and src/). */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  demo, backends, data, train, sample, score, latent, eval: evaluate, merge, reproduce,
};

/** Every command's own --help, for `probunet help --all`. */
const ALL_HELP = [DEMO_HELP, BACKENDS_HELP, DATA_HELP, TRAIN_HELP, SAMPLE_HELP, SCORE_HELP, LATENT_HELP, EVAL_HELP, MERGE_HELP, REPRODUCE_HELP];

/** Node's parseArgs errors (unknown option, missing value, stray positional): usage errors too. */
function isUsageError(err: unknown): boolean {
  return err instanceof UsageError || /^ERR_PARSE_ARGS_/.test(String((err as { code?: unknown })?.code ?? ''));
}

/** Runs the CLI; returns the exit code: 0 done, 1 failed, 2 a command line that cannot work as written. */
export async function main(argv: string[]): Promise<number> {
  // tfjs prints a banner recommending tfjs-node on first use in Node; the backend report says it better.
  tf.env().set('PROD', true);
  const [command, ...rest] = argv;
  switch (command) {
    case '--version':
    case '-v':
      process.stdout.write(`${cliVersion()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      if (rest.includes('--all')) process.stdout.write(`${HELP}\n${ALL_HELP.join('\n')}`);
      else if (command === 'help' && rest[0] && rest[0] in COMMANDS) return COMMANDS[rest[0]]!(['--help']);
      else process.stdout.write(`${HELP}Run 'probunet help --all' for every command's options.\n`);
      return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`probunet: unknown ${command.startsWith('-') ? 'option' : 'command'} "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    // Commands that parse their own options let parseArgs' errors through: the same exit code 2
    // and hint as the commands that go through defineCommand.
    if (!isUsageError(err)) throw err;
    process.stderr.write(`probunet ${command}: ${(err as Error).message.split('\n')[0]}\nRun 'probunet ${command} --help' for the options.\n`);
    return 2;
  }
}
