import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../src/index.js';

// tfjs-node-gpu cannot be installed on the project's machines (its postinstall downloads
// libtensorflow), so this stands in for it: a module that, like the real one, registers a backend
// named 'tensorflow' whose `isUsingGpuDevice` says whether TensorFlow found a GPU. What is tested is
// our side: a binding that loads but runs on the CPU is reported as failed, with the reason.
const state = vi.hoisted(() => ({ onGpu: false as boolean | undefined }));

vi.mock('@tensorflow/tfjs-node-gpu', async () => {
  const core = await import('@tensorflow/tfjs-core');
  const { MathBackendCPU: Cpu } = await import('@tensorflow/tfjs-backend-cpu');
  core.registerBackend('tensorflow', () => Object.assign(new Cpu(), { isUsingGpuDevice: state.onGpu }));
  return {};
});

describe('node-gpu: a binding that silently runs on the CPU', () => {
  afterAll(async () => {
    tf.removeBackend('tensorflow');
    await tf.setBackend('cpu');
  });

  it('is reported as failed, naming CUDA and cuDNN', async () => {
    state.onGpu = false;
    await expect(initBackend('node-gpu')).rejects.toThrow(/backend "node-gpu" could not be initialised:[\s\S]*loaded but runs on the CPU: CUDA 11\.2 \/ cuDNN 8\.1 were not found/);
  });

  it('on a GPU it is selected and says so', async () => {
    state.onGpu = true;
    tf.removeBackend('tensorflow');
    tf.registerBackend('tensorflow', () => Object.assign(new MathBackendCPU(), { isUsingGpuDevice: true }));
    const r = await initBackend('node-gpu');
    expect(r.selected).toBe('node-gpu');
    expect(r.tfBackend).toBe('tensorflow');
    expect(r.notes).toContain('running on the GPU');
  });
});
