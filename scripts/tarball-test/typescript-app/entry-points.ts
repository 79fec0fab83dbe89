// Every public entry point of the library packages, type-checked against the tarballs' .d.ts under
// several module resolutions (tsconfig.*.json). Only types and a few values are touched: nothing runs.
import type * as tf from '@tensorflow/tfjs-core';
import { BackendError, initBackend, type BackendReport } from '@probunet/backends';
import * as backendsNode from '@probunet/backends/node';
import { ConfigError, createProbUNet, createRegistry, corePlugin, Trainer, type Encoder, type ProbUNetPlugin } from '@probunet/core';
import { loadCheckpoint, saveCheckpoint } from '@probunet/core/node';
import { SeededRandom } from '@probunet/core/random';
import { generalizedEnergyDistance, iou, type LabelMap } from '@probunet/metrics';
import { loadNativeKernels, type NativeKernels } from '@probunet/native';
import * as datasets from '@probunet/datasets';
import * as datasetsNode from '@probunet/datasets/node';
import * as baselines from '@probunet/baselines';
import * as evaluation from '@probunet/evaluation';

const plugin: ProbUNetPlugin = { name: 'mine', encoders: {} };
const registry = createRegistry([corePlugin, plugin]);
const map: LabelMap = { data: [0, 1], height: 1, width: 2 };
const distance: number = generalizedEnergyDistance([map], [map]).ged + iou(map, map);
const report: Promise<BackendReport> = initBackend('cpu');
type Kernels = NativeKernels['gemm'];
type Images = tf.Tensor4D;
type EncoderApply = Encoder['apply'];

export const used = [
  BackendError, backendsNode, ConfigError, createProbUNet, Trainer, registry, loadCheckpoint, saveCheckpoint,
  SeededRandom, distance, report, loadNativeKernels, datasets, datasetsNode, baselines, evaluation,
] as const;
export type Used = [Kernels, Images, EncoderApply];
