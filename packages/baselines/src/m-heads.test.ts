import { corePlugin } from '@probunet/core';
import { describeModelContract, describeSamplerContract } from '@probunet/core/testing';
import { baselinesPlugin, createModel } from './create-model.js';

const make = () => createModel({ type: 'm-heads', inputChannels: 1, numClasses: 3, channels: [4, 8], convsPerBlock: 1, seed: 2,heads: 3 });

describeSamplerContract('MHeads', make, { channels: 1, size: 8 });
describeModelContract('MHeads', make, { channels: 1, size: 8, plugins: [corePlugin, baselinesPlugin] });
