export { BACKEND_NAMES, type BackendName, type ModuleLoaders } from './providers.js';
export {
  AUTO_ORDER,
  BackendError,
  formatBackendReport,
  initBackend,
  type BackendPreference,
  type BackendReport,
  type CandidateReport,
  type InitBackendOptions,
} from './init-backend.js';
export { nativeKernelCounters } from './native-kernels/host.js';
export { nativePoolStats, type NativePoolStats } from './native/backend.js';
export { setWebgpuFilterGradKernel } from './webgpu-filter-grad.js';
export { setWebgpuConvKernels } from './webgpu-conv2d.js';
