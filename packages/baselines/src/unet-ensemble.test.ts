import { corePlugin } from '@probunet/core';
import { describeModelContract, describeSamplerContract } from '@probunet/core/testing';
import { baselinesPlugin, createModel } from './create-model.js';

const make = () => createModel({ type: 'unet-ensemble', inputChannels: 1, numClasses: 3, channels: [4, 8], convsPerBlock: 1, seed: 2,members: 2 });

describeSamplerContract('UNetEnsemble', make, { channels: 1, size: 8 });
describeModelContract('UNetEnsemble', make, { channels: 1, size: 8, plugins: [corePlugin, baselinesPlugin] });
