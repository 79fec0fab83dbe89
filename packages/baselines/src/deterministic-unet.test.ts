import { describeSamplerContract } from '@probunet/core/testing';
import { DeterministicUNet } from './deterministic-unet.js';

describeSamplerContract(
  'DeterministicUNet',
  () => new DeterministicUNet({ encoder: { type: 'unet', inputChannels: 1, channels: [4, 8], convsPerBlock: 1 }, numClasses: 3 }),
  { channels: 1, size: 8 },
);
