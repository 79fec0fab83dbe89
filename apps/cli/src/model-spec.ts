import { readFile } from 'node:fs/promises';
import { baselinesPlugin, createModel } from '@probunet/baselines';
import { corePlugin, createRegistry, type CheckpointableModel, type ModelConfig, type Registry } from '@probunet/core';
import { successorsPlugin } from '@probunet/successors';
import type { DatasetSpec } from '@probunet/datasets';
import { UsageError } from './cli-errors.js';

/** Every model type the CLI builds and loads: the core's Prob. U-Net, the five baselines and the successors. */
export function cliRegistry(): Registry {
  return createRegistry([corePlugin, baselinesPlugin, successorsPlugin]);
}

/**
 * Named Prob. U-Net configs. `lidc` and `cityscapes` are the paper's (PAPER.md, "Training"):
 * LIDC as in common practice (128×128 one-channel crops, channels [32, 64, 128, 192], latentDim 6,
 * 2 classes); Cityscapes as the authors' code (3-channel 256×512 input, 24 classes, channels
 * [32, 64, 128, 192, 192, 192, 192], 3 convs per block, latentDim 6, 3 1×1 convs). `synthetic` is the
 * small net `probunet demo` trains on the synthetic LIDC-like data in minutes on a CPU.
 */
export const MODEL_PRESETS = {
  lidc: { type: 'prob-unet', inputChannels: 1, numClasses: 2, channels: [32, 64, 128, 192], convsPerBlock: 3, latentDim: 6 },
  cityscapes: { type: 'prob-unet', inputChannels: 3, numClasses: 24, channels: [32, 64, 128, 192, 192, 192, 192], convsPerBlock: 3, latentDim: 6, num1x1Convs: 3 },
  synthetic: { type: 'prob-unet', inputChannels: 1, numClasses: 2, channels: [16, 32, 64], convsPerBlock: 2, latentDim: 6, num1x1Convs: 3 },
} as const;
export type ModelPreset = keyof typeof MODEL_PRESETS;

/** `--model`: a preset name, or a JSON file with what `createModel` reads. Returns the config as JSON. */
export async function readModelSpec(spec: string): Promise<Record<string, unknown>> {
  if (spec in MODEL_PRESETS) return structuredClone(MODEL_PRESETS[spec as ModelPreset]) as unknown as Record<string, unknown>;
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--model ${spec}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`}; give a JSON model config or a preset (${Object.keys(MODEL_PRESETS).join(', ')})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--model ${spec} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`--model ${spec} must hold a JSON object, e.g. {"type": "prob-unet", "inputChannels": 1, "numClasses": 2}`);
  return parsed as Record<string, unknown>;
}

/** Builds the model and checks it against the data's channels and classes (ConfigError on a bad config). */
export function buildModel(config: Record<string, unknown>, data: DatasetSpec, where: string): CheckpointableModel {
  const model = createModel(config as unknown as ModelConfig, cliRegistry());
  const spec = model.inputSpec;
  const mismatch =
    spec.channels !== data.channels
      ? `takes ${spec.channels} input channel(s), the data has ${data.channels}: set "inputChannels": ${data.channels}`
      : spec.numClasses !== data.numClasses
        ? `predicts ${spec.numClasses} classes, the data has ${data.numClasses}: set "numClasses": ${data.numClasses}`
        : undefined;
  if (mismatch) {
    model.dispose();
    throw new UsageError(`the model of ${where} ${mismatch}`);
  }
  return model;
}
