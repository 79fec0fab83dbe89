import { access } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { hasLatentSpace, type CheckpointableModel, type LatentSpaceModel, type RestoredCheckpoint } from '@probunet/core';
import { loadCheckpoint } from '@probunet/core/node';
import { readPng, type DecodedPng } from '@probunet/datasets/node';
import { UsageError } from './cli-errors.js';
import { cliRegistry } from './model-spec.js';

/** Loads a checkpoint of any of the six model types; a missing or bad file is a one-line error. */
export async function loadModelCheckpoint(path: string): Promise<RestoredCheckpoint> {
  await mustExist(path, '--checkpoint');
  return loadCheckpoint(path, { registry: cliRegistry(), onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
}

/** The model if it has a conditional latent space (the Prob. U-Net), or a UsageError saying which type the checkpoint holds instead. */
export function requireLatentSpace(model: CheckpointableModel, path: string, what: string): LatentSpaceModel {
  if (hasLatentSpace(model)) return model;
  throw new UsageError(`${path} holds a "${model.kind}" model; ${what} needs a prob-unet checkpoint (only the Prob. U-Net has a prior and a posterior)`);
}

export async function mustExist(path: string, option: string): Promise<void> {
  try {
    await access(path);
  } catch {
    throw new UsageError(`${option} ${path}: no such file`);
  }
}

/**
 * Reads an image PNG for the model: 8-bit values scaled to [0, 1]; gray for a 1-channel model, RGB
 * (alpha dropped) for a 3-channel one. Wrong channels, or sides the model's down-sampling cannot
 * divide, are errors naming the file and the fix. Returns float32 [1,H,W,C]; caller owns it.
 */
export async function readModelImage(path: string, model: CheckpointableModel): Promise<{ tensor: tf.Tensor4D; png: DecodedPng }> {
  await mustExist(path, '--image');
  const png = await readPng(path);
  const { channels: want, downsamplingFactor: f } = model.inputSpec;
  const colour = png.channels >= 3 ? 3 : 1; // gray+alpha counts as gray, RGBA as RGB
  if (colour !== want) {
    throw new UsageError(`--image ${path} has ${colour === 3 ? '3 colour channels (RGB)' : '1 channel (gray)'}, the model takes ${want}: convert it to ${want === 1 ? 'grayscale' : 'RGB'}`);
  }
  if (png.width % f !== 0 || png.height % f !== 0) {
    throw new UsageError(`--image ${path} is ${png.width}×${png.height}; the model down-samples by ${f}, so both sides must be multiples of ${f} (crop or pad it)`);
  }
  const hw = png.width * png.height;
  const data = new Float32Array(hw * want);
  for (let i = 0; i < hw; i++) for (let c = 0; c < want; c++) data[i * want + c] = png.data[i * png.channels + c]! / 255;
  return { tensor: tf.tensor4d(data, [1, png.height, png.width, want]), png };
}

/**
 * Reads an annotation PNG (first channel) as class ids [1,H,W] int32; caller owns it. For a 2-class
 * model a 0/255 mask (LIDC's format) means background/lesion. Other values must be class ids or the
 * model's ignore label.
 */
export async function readAnnotation(path: string, model: CheckpointableModel, height: number, width: number): Promise<tf.Tensor3D> {
  await mustExist(path, '--annotation');
  const png = await readPng(path);
  if (png.width !== width || png.height !== height) throw new UsageError(`--annotation ${path} is ${png.width}×${png.height}, the image is ${width}×${height}`);
  const { numClasses, ignoreLabel } = model.inputSpec;
  const labels = new Int32Array(width * height);
  const values = new Set<number>();
  for (let i = 0; i < labels.length; i++) values.add((labels[i] = png.data[i * png.channels]!));
  const binary255 = numClasses === 2 && [...values].every((v) => v === 0 || v === 255);
  if (binary255) for (let i = 0; i < labels.length; i++) labels[i] = labels[i]! === 255 ? 1 : 0;
  else {
    const bad = [...values].find((v) => v >= numClasses && v !== ignoreLabel);
    if (bad !== undefined) throw new UsageError(`--annotation ${path} holds the value ${bad}; the model has classes 0..${numClasses - 1} (ignore label ${ignoreLabel})`);
  }
  return tf.tensor3d(labels, [1, height, width], 'int32');
}
