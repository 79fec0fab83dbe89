import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createProbUNet } from '../model/create.js';
import { fit } from './fit.js';
import { Trainer, type TrainBatch } from './trainer.js';

const tiny = { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1, seed: 3 };

/** Endless batches, made only when asked for; `made` counts them. */
function stream(counter: { made: number }, limit = Infinity): AsyncGenerator<TrainBatch> {
  return (async function* () {
    for (let i = 0; i < limit; i++) {
      counter.made++;
      yield {
        images: tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', i) as tf.Tensor4D,
        labels: tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([2, 8, 8], 0, 1, 'float32', i + 50), 0.5), 'int32')) as tf.Tensor3D,
      };
    }
  })();
}

describe('fit', () => {
  it('trains to the step count, checkpoints every saveEvery steps and at the end, and takes no batch it does not train on', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const counter = { made: 0 };
    const saves: string[] = [];
    const seen: number[] = [];
    const result = await fit(trainer, stream(counter), {
      steps: 5,
      saveEvery: 2,
      onStep: (m, batch) => void seen.push(m.step, batch.images.shape[0]),
      checkpoint: async (reason) => void saves.push(`${reason}@${trainer.step}`),
    });
    expect(result).toMatchObject({ stopped: 'finished', step: 5 });
    expect(result.last?.step).toBe(5);
    expect(seen).toEqual([1, 2, 2, 2, 3, 2, 4, 2, 5, 2]);
    expect(saves).toEqual(['periodic@2', 'periodic@4', 'finished@5']);
    expect(counter.made).toBe(5);
    // A second call at the step count trains nothing and still reports the end.
    expect(await fit(trainer, stream(counter), { steps: 5 })).toMatchObject({ stopped: 'finished', step: 5 });
    expect(counter.made).toBe(5);
    // Warm (Adam's moments made): more steps leave no tensor behind.
    const warm = tf.memory().numTensors;
    expect(await fit(trainer, stream(counter), { steps: 8 })).toMatchObject({ stopped: 'finished', step: 8 });
    expect(tf.memory().numTensors).toBe(warm);
    trainer.dispose();
    model.dispose();
  });

  it('stops after the step under way when the signal aborts, and reports exhausted batches', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e-3 });
    const controller = new AbortController();
    const aborted = await fit(trainer, stream({ made: 0 }), { steps: 100, onStep: (m) => void (m.step === 2 && controller.abort()), signal: controller.signal });
    expect(aborted).toMatchObject({ stopped: 'aborted', step: 2 });
    expect(await fit(trainer, stream({ made: 0 }, 3), { steps: 100 })).toMatchObject({ stopped: 'exhausted', step: 5 });
    trainer.dispose();
    model.dispose();
  });

  it('resolves a non-finite step as stopped, with the state rolled back, and checkpoints that last good state', async () => {
    const model = createProbUNet(tiny);
    const trainer = new Trainer(model, { learningRate: 1e39 });
    const saves: string[] = [];
    const result = await fit(trainer, stream({ made: 0 }), { steps: 10, checkpoint: async (reason) => void saves.push(`${reason}@${trainer.step}`) });
    expect(result.stopped).toBe('non-finite');
    expect(result.error?.step).toBe(1);
    expect(result.step).toBe(0);
    expect(saves).toEqual(['non-finite@0']);
    const warm = tf.memory().numTensors;
    expect((await fit(trainer, stream({ made: 0 }), { steps: 10 })).stopped).toBe('non-finite');
    expect(tf.memory().numTensors).toBe(warm);
    trainer.dispose();
    model.dispose();
  });
});
