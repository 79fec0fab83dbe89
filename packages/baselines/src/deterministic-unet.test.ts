import { corePlugin } from '@probunet/core';
import { describeModelContract, describeSamplerContract } from '@probunet/core/testing';
import { baselinesPlugin, createModel } from './create-model.js';
import { DeterministicUNet } from './deterministic-unet.js';

const make = () => new DeterministicUNet({ encoder: { type: 'unet', inputChannels: 1, channels: [4, 8], convsPerBlock: 1 }, numClasses: 3 });

describeSamplerContract('DeterministicUNet', make, { channels: 1, size: 8 });
describeModelContract('DeterministicUNet', make, { channels: 1, size: 8, plugins: [corePlugin, baselinesPlugin] });
describeModelContract(
  'DeterministicUNet (short form)',
  () => createModel({ type: 'deterministic-unet', inputChannels: 2, numClasses: 2, channels: [4, 8], convsPerBlock: 1, seed: 3 }),
  { channels: 2, size: 8, plugins: [corePlugin, baselinesPlugin] },
);
