export { expectArrayClose, expectNoLeakedTensors, expectTensorClose, relativeL2Error, type CloseOptions } from './assertions.js';
export {
  describeEncoderContract,
  describeFusionHeadContract,
  describeLatentNetContract,
  describeSamplerContract,
  type ContractOptions,
} from './contracts.js';
export { describeModelContract, type ModelContractOptions } from './model-contract.js';
export { numericalGradient } from './numerical-gradient.js';
export { tolerance, type ToleranceKind } from './tolerance.js';
