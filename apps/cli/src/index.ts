import * as tf from '@tensorflow/tfjs-core';
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

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // tfjs prints a banner recommending tfjs-node on first use in Node; the backend report says it better.
  tf.env().set('PROD', true);
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return demo(rest);
    case 'backends':
      return backends(rest);
    case 'data':
      return data(rest);
    case 'train':
      return train(rest);
    case 'sample':
      return sample(rest);
    case 'score':
      return score(rest);
    case 'latent':
      return latent(rest);
    case 'eval':
      return evaluate(rest);
    case 'merge':
      return merge(rest);
    case 'reproduce':
      return reproduce(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n${DEMO_HELP}\n${BACKENDS_HELP}\n${DATA_HELP}\n${TRAIN_HELP}\n${SAMPLE_HELP}\n${SCORE_HELP}\n${LATENT_HELP}\n${EVAL_HELP}\n${MERGE_HELP}\n${REPRODUCE_HELP}`);
      return 0;
    default:
      process.stderr.write(`probunet: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
