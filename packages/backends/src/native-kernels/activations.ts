import type { NativeActivation } from '@probunet/native';

/** Fused activations the native kernels apply; others fall back to the host backend's own kernel. */
export const ACTIVATIONS: Record<string, NativeActivation | undefined> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  leakyrelu: 'leakyrelu',
  sigmoid: 'sigmoid',
  elu: 'elu',
};
