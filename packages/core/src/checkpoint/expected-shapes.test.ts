import { describe, expect, it } from 'vitest';
import { createProbUNet } from '../model/create.js';
import { expectedParameterShapes } from './expected-shapes.js';

describe('expectedParameterShapes', () => {
  it.each([
    { inputChannels: 1, numClasses: 2, channels: [4, 8], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1 },
    { inputChannels: 3, numClasses: 5, channels: [2, 3, 5], convsPerBlock: 2, latentDim: 4, num1x1Convs: 0 },
    { inputChannels: 2, numClasses: 19, channels: [3], convsPerBlock: 3, latentDim: 1, num1x1Convs: 3 },
  ])('lists exactly the parameters the core components allocate (%j)', (config) => {
    const model = createProbUNet(config);
    const built = new Map(model.parameters().map((p) => [p.name, p.variable.shape]));
    const expected = new Map<string, number[]>();
    for (const shapes of expectedParameterShapes(model.getConfig()).values()) for (const [k, v] of shapes!) expected.set(k, v);
    expect(Object.fromEntries(expected)).toEqual(Object.fromEntries(built));
    model.dispose();
  });

  it('gives null for a part that is not a core component', () => {
    const model = createProbUNet({ inputChannels: 1, numClasses: 2, channels: [4], convsPerBlock: 1, latentDim: 2, num1x1Convs: 1 });
    const config = { ...model.getConfig(), encoder: { type: 'my-encoder' } };
    model.dispose();
    const parts = expectedParameterShapes(config);
    expect(parts.get('unet')).toBeNull();
    expect(parts.get('prior')?.size).toBeGreaterThan(0);
  });
});
